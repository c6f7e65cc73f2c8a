"""The composition root: the one place that turns the settings into the objects the code
works with (the database, storage, FFmpeg, the notifier, the providers, the chat's files, the
Step Functions and Lambda clients). Each part is built on first use, so a function only imports
the SDKs it really calls.

A runtime is built once by each entry point (videobot.entry for the Lambda functions, the
local runner, a test) and passed down as `rt`; nothing below the entry points looks one up.
The settings pick the implementations (videobot.providers)."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from videobot import config, providers
from videobot.config import Settings
from videobot.data.db import Database
from videobot.errors import ConfigurationError
from videobot.media import FFmpeg
from videobot.notify import LogNotifier, Notifier
from videobot.storage import Storage, make_storage

if TYPE_CHECKING:
    from videobot.providers.base import LLM, ChatFiles, ClipGenerator, ImageGenerator, SpeechSynthesizer, Transcriber

_build_lock = threading.RLock()


class _Built(cached_property):
    """cached_property built under one lock: handler threads of the local runner may ask for
    the same part at once, and an SDK imported from two threads at once can fail."""

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        if self.attrname in instance.__dict__:
            return instance.__dict__[self.attrname]
        with _build_lock:
            return super().__get__(instance, owner)


class Runtime:
    def __init__(self, settings: Settings, *, db: Database | None = None):
        self.settings = settings
        # PostgreSQL (its pool opens on first use); a runtime may share another's (`db`)
        self.db = db or Database(
            settings.database.url,
            connect_timeout_seconds=settings.database.connect_timeout_seconds,
            max_connections=settings.database.pool_size,
            checkout_timeout_seconds=settings.database.checkout_timeout_seconds,
        )

    @_Built
    def storage(self) -> Storage:
        return make_storage(self.settings)

    @_Built
    def notifier(self) -> Notifier:
        """NOTIFIER_PROVIDER: telegram, or log (no bot token on a laptop); none raises."""
        provider = self.settings.providers.notifier
        if provider == "telegram":
            from videobot.telegram.notifier import TelegramNotifier

            return TelegramNotifier(self.settings, self.storage, self.db)
        if provider == "log":
            return LogNotifier()
        raise ConfigurationError("this function is given no notifier (template.yaml names NOTIFIER_PROVIDER none)")

    @_Built
    def chat_files(self) -> ChatFiles:
        """The files users send the bot (voice topics), fetched from Telegram."""
        from videobot.telegram.files import TelegramFiles

        return TelegramFiles(self.settings)

    @_Built
    def llm(self) -> LLM:
        return providers.make_llm(self.settings)

    @_Built
    def images(self) -> ImageGenerator:
        return providers.make_image_generator(self.settings)

    @_Built
    def clips(self) -> ClipGenerator:
        return providers.make_clip_generator(self.settings, self.ffmpeg)

    @_Built
    def ffmpeg(self) -> FFmpeg:
        """FFmpeg (FFMPEG_PATH, else the layer's, else imageio-ffmpeg's) and the media work on it."""
        return FFmpeg(self.settings.assembly.ffmpeg_path)

    @_Built
    def speech(self) -> SpeechSynthesizer:
        return providers.make_speech(self.settings)

    @_Built
    def transcriber(self) -> Transcriber:
        return providers.make_transcriber(self.settings)

    def _aws_config(self):
        """The time budget of the Step Functions and Lambda clients (config.py)."""
        from botocore.config import Config

        s = self.settings
        return Config(
            connect_timeout=s.aws.connect_timeout_seconds,
            read_timeout=s.aws.read_timeout_seconds,
            retries={"mode": "standard", "total_max_attempts": s.aws.client_attempts},
        )

    @_Built
    def sfn(self):
        import boto3

        return boto3.client("stepfunctions", config=self._aws_config())

    @_Built
    def lambdas(self):
        """The Lambda client the webhook hands slow work to (Invoke with InvocationType=Event);
        botocore honours AWS_ENDPOINT_URL_LAMBDA, so locally it reaches local/lambda_endpoint."""
        import boto3

        return boto3.client("lambda", config=self._aws_config())

    def speech_voices(self) -> tuple[str, ...]:
        """The voices the active speech provider offers in /settings (the first is its default)."""
        return providers.speech_voices(self.settings)


def from_environment(environ: Mapping[str, str] | None = None) -> Runtime:
    """A runtime from the environment (os.environ unless `environ`), validated once
    (videobot.config.settings_from_environ)."""
    return Runtime(config.settings_from_environ(os.environ if environ is None else environ))
