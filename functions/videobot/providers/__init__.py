"""Provider selection from the settings: LLM_PROVIDER (offline, openai), IMAGE_PROVIDER and
VIDEO_PROVIDER (offline, runway), TTS_PROVIDER (offline, openai, polly) and
TRANSCRIBE_PROVIDER (openai); unset, offline unless the vendor's key is set (config.py).
"none" names a capability this function never calls (template.yaml): asking for it is a
ConfigurationError, never a quiet offline stand-in. Code never asks whether it runs in a
test. The composition root (videobot.runtime) calls these once per process."""

from __future__ import annotations

from videobot.config import Settings
from videobot.errors import ConfigurationError
from videobot.providers.base import LLM, ClipGenerator, ImageGenerator, SpeechSynthesizer, Transcriber


def _unknown(capability: str, name: str) -> ConfigurationError:
    if name == "none":
        return ConfigurationError(f"this function is given no {capability} provider (template.yaml names it none)")
    return ConfigurationError(f"no {capability} provider named {name!r}")


def make_llm(settings: Settings) -> LLM:
    if settings.llm_provider == "offline":
        from videobot.providers.offline import OfflineLLM

        return OfflineLLM(settings.offline_latency_scale)
    if settings.llm_provider == "openai":
        from videobot.providers.openai_llm import OpenAILLM

        return OpenAILLM(settings)
    raise _unknown("LLM", settings.llm_provider)


def make_image_generator(settings: Settings) -> ImageGenerator:
    if settings.image_provider == "offline":
        from videobot.providers.offline import OfflineImageGenerator

        return OfflineImageGenerator(settings.offline_spool_dir, settings.offline_latency_scale)
    if settings.image_provider == "runway":
        from videobot.providers.runway import RunwayImageGenerator

        return RunwayImageGenerator(settings)
    raise _unknown("image", settings.image_provider)


def make_clip_generator(settings: Settings) -> ClipGenerator:
    if settings.video_provider == "offline":
        from videobot.providers.offline import OfflineClipGenerator

        return OfflineClipGenerator(settings.offline_spool_dir, settings.offline_latency_scale)
    if settings.video_provider == "runway":
        from videobot.providers.runway import RunwayClipGenerator

        return RunwayClipGenerator(settings)
    raise _unknown("video", settings.video_provider)


def make_speech(settings: Settings) -> SpeechSynthesizer:
    if settings.tts_provider == "offline":
        from videobot.providers.offline import OfflineSpeech

        return OfflineSpeech(settings.offline_latency_scale)
    if settings.tts_provider == "openai":
        from videobot.providers.openai_speech import FallbackSpeech, OpenAISpeech

        if settings.tts_fallback_provider in ("none", "openai"):
            return OpenAISpeech(settings)
        fallback = make_speech(settings.model_copy(update={"tts_provider": settings.tts_fallback_provider}))
        return FallbackSpeech(OpenAISpeech(settings), fallback)
    if settings.tts_provider == "polly":
        from videobot.providers.polly import PollySpeech

        return PollySpeech(settings)
    raise _unknown("speech", settings.tts_provider)


def make_transcriber(settings: Settings) -> Transcriber:
    """Voice-note topics need OpenAI (there is no offline transcriber)."""
    if settings.transcribe_provider != "openai":
        raise _unknown("transcription", settings.transcribe_provider)
    from videobot.providers.openai_transcribe import OpenAITranscriber

    return OpenAITranscriber(settings)


def speech_voices(settings: Settings) -> tuple[str, ...]:
    """The voices the configured speech provider offers in /settings (the first is its default),
    known without building the provider: the pipeline's (the webhook offers them, RecordVoiceover speaks)."""
    if settings.pipeline_tts_provider == "openai":
        from videobot.providers.openai_speech import VOICES

        default = settings.openai_tts_voice
        return (default, *(v for v in VOICES if v != default)) if default in VOICES else VOICES
    if settings.pipeline_tts_provider == "polly":
        from videobot.providers.polly import PollySpeech

        return tuple(PollySpeech.VOICES)
    from videobot.providers.offline import OfflineSpeech

    return tuple(OfflineSpeech.VOICES)
