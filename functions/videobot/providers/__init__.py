"""Provider selection from the settings: LLM_PROVIDER (offline, openai), IMAGE_PROVIDER and
VIDEO_PROVIDER (offline, runway), TTS_PROVIDER (offline, openai, polly) and
TRANSCRIBE_PROVIDER (openai); unset, offline unless the vendor's key is set (config.py).
"none" names a capability this function never calls (template.yaml): asking for it is a
ConfigurationError, never a quiet offline stand-in. Code never asks whether it runs in a
test. The composition root (videobot.runtime) calls these once per process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from videobot.config import Settings
from videobot.errors import ConfigurationError
from videobot.providers.base import LLM, ClipGenerator, ImageGenerator, SpeechSynthesizer, Transcriber

if TYPE_CHECKING:
    from videobot.media import FFmpeg


def _unknown(capability: str, name: str | None) -> ConfigurationError:
    if name == "none":
        return ConfigurationError(f"this function is given no {capability} provider (template.yaml names it none)")
    return ConfigurationError(f"no {capability} provider named {name!r}")


def make_llm(settings: Settings) -> LLM:
    if settings.providers.llm == "offline":
        from videobot.providers.offline import OfflineLLM

        return OfflineLLM(settings.providers.offline_latency_scale)
    if settings.providers.llm == "openai":
        from videobot.providers.openai_llm import OpenAILLM

        return OpenAILLM(settings)
    raise _unknown("LLM", settings.providers.llm)


def make_image_generator(settings: Settings) -> ImageGenerator:
    if settings.providers.image == "offline":
        from videobot.providers.offline import OfflineImageGenerator

        return OfflineImageGenerator(settings.providers.offline_spool_dir, settings.providers.offline_latency_scale)
    if settings.providers.image == "runway":
        from videobot.providers.runway import RunwayImageGenerator

        return RunwayImageGenerator(settings)
    raise _unknown("image", settings.providers.image)


def make_clip_generator(settings: Settings, ffmpeg: FFmpeg) -> ClipGenerator:
    if settings.providers.video == "offline":
        from videobot.providers.offline import OfflineClipGenerator

        return OfflineClipGenerator(
            settings.providers.offline_spool_dir, ffmpeg, settings.providers.offline_latency_scale
        )
    if settings.providers.video == "runway":
        from videobot.providers.runway import RunwayClipGenerator

        return RunwayClipGenerator(settings)
    raise _unknown("video", settings.providers.video)


def make_speech(settings: Settings) -> SpeechSynthesizer:
    if settings.providers.tts == "offline":
        from videobot.providers.offline import OfflineSpeech

        return OfflineSpeech(settings.providers.offline_latency_scale)
    if settings.providers.tts == "openai":
        from videobot.providers.openai_speech import FallbackSpeech, OpenAISpeech

        if settings.providers.tts_fallback in ("none", "openai"):
            return OpenAISpeech(settings)
        fallback = make_speech(settings.with_values(TTS_PROVIDER=settings.providers.tts_fallback))
        return FallbackSpeech(OpenAISpeech(settings), fallback)
    if settings.providers.tts == "polly":
        from videobot.providers.polly import PollySpeech

        return PollySpeech(settings)
    raise _unknown("speech", settings.providers.tts)


def make_transcriber(settings: Settings) -> Transcriber:
    """Voice-note topics need OpenAI (there is no offline transcriber)."""
    if settings.providers.transcribe != "openai":
        raise _unknown("transcription", settings.providers.transcribe)
    from videobot.providers.openai_transcribe import OpenAITranscriber

    return OpenAITranscriber(settings)


def speech_voices(settings: Settings) -> tuple[str, ...]:
    """The voices the configured speech provider offers in /settings (the first is its default),
    known without building the provider: the pipeline's (the webhook offers them, RecordVoiceover speaks)."""
    if settings.providers.pipeline_tts == "openai":
        from videobot.providers.openai_speech import VOICES

        default = settings.openai.tts_voice
        return (default, *(v for v in VOICES if v != default)) if default in VOICES else VOICES
    if settings.providers.pipeline_tts == "polly":
        from videobot.providers.polly import PollySpeech

        return tuple(PollySpeech.VOICES)
    from videobot.providers.offline import OfflineSpeech

    return tuple(OfflineSpeech.VOICES)
