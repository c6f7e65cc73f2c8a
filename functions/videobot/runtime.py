"""The composition root: the one place that turns the settings into the objects the code
works with (storage, the notifier, the providers, the chat's files, the Step Functions and
Lambda clients) and hands
them to the stages, the lifecycle and the bot. Each is built once per process, on first use,
so a function only imports the SDKs it really calls.

The environment picks the implementations (videobot.providers); tests and the local runner
change the environment, then call `reset()`."""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

from videobot import config, providers
from videobot.config import Settings
from videobot.errors import ConfigurationError
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
    def __init__(self, settings: Settings):
        self.settings = settings

    @_Built
    def storage(self) -> Storage:
        return make_storage(self.settings)

    @_Built
    def notifier(self) -> Notifier:
        """NOTIFIER_PROVIDER: telegram, or log (no bot token on a laptop); none raises."""
        provider = self.settings.notifier_provider
        if provider == "telegram":
            from videobot.telegram.notifier import TelegramNotifier

            return TelegramNotifier(self.settings, self.storage)
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
        return providers.make_clip_generator(self.settings)

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
            connect_timeout=s.aws_connect_timeout_seconds,
            read_timeout=s.aws_read_timeout_seconds,
            retries={"mode": "standard", "total_max_attempts": s.aws_client_attempts},
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


_current: Runtime | None = None


def current() -> Runtime:
    """This process's runtime, built from the environment on first use."""
    global _current
    runtime = _current
    if runtime is None:
        with _build_lock:
            if _current is None:
                _current = Runtime(config.get_settings())
            runtime = _current
    return runtime


def reset() -> Runtime:
    """Read the environment again (the local runner and tests change it)."""
    global _current
    with _build_lock:
        config.reload_settings()
        _current = None
    return current()
