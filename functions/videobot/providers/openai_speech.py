"""Speech from OpenAI's `POST /v1/audio/speech` (gpt-4o-mini-tts by default). The voice, the
tone `instructions` and the format are settings. These TTS models are reported to retire on
2027-01-06, which is why speech is a provider: Polly and espeak sit behind the same interface."""

from __future__ import annotations

from videobot.config import Settings, get_settings
from videobot.errors import VendorFailed
from videobot.providers.base import Speech
from videobot.providers.openai_common import make_client, vendor_error

MAX_INPUT_CHARS = 4096
INSTRUCTABLE_MODELS = ("gpt-4o-mini-tts",)  # tts-1 and tts-1-hd take no instructions
# The voices a user may pick in /settings (the documented built-in voices).
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse")


def looks_like(data: bytes, fmt: str) -> bool:
    """The bytes really are the format asked for (the original bot wrote AAC into .mp3)."""
    if fmt == "mp3":
        # an ID3 tag, or an MPEG audio frame header whose layer is not "reserved" (which ADTS AAC has)
        return data[:3] == b"ID3" or (
            len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and (data[1] >> 1) & 0x03 != 0
        )
    if fmt == "wav":
        return data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    if fmt == "flac":
        return data[:4] == b"fLaC"
    if fmt == "opus":
        return data[:4] == b"OggS"
    if fmt == "aac":
        return len(data) > 1 and data[0] == 0xFF and data[1] & 0xF6 == 0xF0
    return bool(data)


class OpenAISpeech:
    def __init__(self, settings: Settings | None = None, client=None):
        self.settings = settings or get_settings()
        self.client = client or make_client(self.settings)

    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Speech:
        import openai

        s = self.settings
        text = " ".join(text.split())
        if not text or len(text) > MAX_INPUT_CHARS:
            raise VendorFailed(f"speech input must be 1-{MAX_INPUT_CHARS} characters, not {len(text)}")
        kwargs = {}
        if s.openai_tts_instructions and s.openai_tts_model.startswith(INSTRUCTABLE_MODELS):
            kwargs["instructions"] = s.openai_tts_instructions
        try:
            reply = self.client.audio.speech.create(
                model=s.openai_tts_model,
                voice=voice if voice in VOICES else s.openai_tts_voice,
                input=text,
                response_format=s.openai_tts_format,
                **kwargs,
            )
            audio = reply.read()
        except openai.OpenAIError as exc:
            raise vendor_error(exc, "speech") from None
        if not looks_like(audio, s.openai_tts_format):
            raise VendorFailed(f"OpenAI speech: the reply is not {s.openai_tts_format} audio")
        return Speech(
            audio=audio,
            extension=s.openai_tts_format,
            characters=len(text),
            vendor="openai",
            model=s.openai_tts_model,
        )
