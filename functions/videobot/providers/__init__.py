"""Provider selection: offline unless a vendor key is set; LLM_PROVIDER (offline, openai),
IMAGE_PROVIDER and VIDEO_PROVIDER (offline, runway) and TTS_PROVIDER (offline, openai, polly)
override. Code never asks whether it runs in a test."""

from __future__ import annotations

from functools import lru_cache

from videobot.config import get_settings
from videobot.errors import ConfigurationError
from videobot.providers.base import LLM, ClipGenerator, ImageGenerator, SpeechSynthesizer


def _unknown(capability: str, name: str) -> ConfigurationError:
    return ConfigurationError(f"no {capability} provider named {name!r}")


@lru_cache(maxsize=1)
def get_llm() -> LLM:
    name = get_settings().llm_provider
    if name == "offline":
        from videobot.providers.offline import OfflineLLM

        return OfflineLLM(get_settings().offline_latency_scale)
    if name == "openai":
        from videobot.providers.openai_llm import OpenAILLM

        return OpenAILLM()
    raise _unknown("LLM", name)


@lru_cache(maxsize=1)
def get_image_generator() -> ImageGenerator:
    settings = get_settings()
    if settings.image_provider == "offline":
        from videobot.providers.offline import OfflineImageGenerator

        return OfflineImageGenerator(settings.offline_spool_dir, settings.offline_latency_scale)
    if settings.image_provider == "runway":
        from videobot.providers.runway import RunwayImageGenerator

        return RunwayImageGenerator(settings)
    raise _unknown("image", settings.image_provider)


@lru_cache(maxsize=1)
def get_clip_generator() -> ClipGenerator:
    settings = get_settings()
    if settings.video_provider == "offline":
        from videobot.providers.offline import OfflineClipGenerator

        return OfflineClipGenerator(settings.offline_spool_dir, settings.offline_latency_scale)
    if settings.video_provider == "runway":
        from videobot.providers.runway import RunwayClipGenerator

        return RunwayClipGenerator(settings)
    raise _unknown("video", settings.video_provider)


@lru_cache(maxsize=1)
def get_speech() -> SpeechSynthesizer:
    name = get_settings().tts_provider
    if name == "offline":
        from videobot.providers.offline import OfflineSpeech

        return OfflineSpeech(get_settings().offline_latency_scale)
    if name == "openai":
        from videobot.providers.openai_speech import OpenAISpeech

        return OpenAISpeech()
    if name == "polly":
        from videobot.providers.polly import PollySpeech

        return PollySpeech()
    raise _unknown("speech", name)


def speech_voices() -> tuple[str, ...]:
    """The voices the active speech provider offers in /settings (the first is its default)."""
    name = get_settings().tts_provider
    if name == "openai":
        from videobot.providers.openai_speech import VOICES

        default = get_settings().openai_tts_voice
        return (default, *(v for v in VOICES if v != default)) if default in VOICES else VOICES
    if name == "polly":
        from videobot.providers.polly import PollySpeech

        return tuple(PollySpeech.VOICES)
    from videobot.providers.offline import OfflineSpeech

    return tuple(OfflineSpeech.VOICES)


def reset_providers() -> None:
    for fn in (get_llm, get_image_generator, get_clip_generator, get_speech):
        fn.cache_clear()
