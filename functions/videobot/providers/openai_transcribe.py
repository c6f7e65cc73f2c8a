"""Voice topics: OpenAI's `POST /v1/audio/transcriptions` (gpt-transcribe by default)
turns a Telegram voice note (OGG/Opus, sent as `.oga`) into the topic's text. The client is
the shared one (OPENAI_BASE_URL, the SDK's retries on 429/5xx, never on 400)."""

from __future__ import annotations

from videobot.config import Settings
from videobot.errors import VendorFailed
from videobot.providers.base import Transcript
from videobot.providers.openai_common import make_client, vendor_error

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # the endpoint's limit; Telegram lets bots download 20 MB


class OpenAITranscriber:
    def __init__(self, settings: Settings, client=None):
        self.settings = settings
        self.client = client or make_client(self.settings)

    def transcribe(self, audio: bytes, *, filename: str = "voice.oga", language: str | None = None) -> Transcript:
        import openai

        if not audio or len(audio) > MAX_UPLOAD_BYTES:
            raise VendorFailed(f"the recording must be 1 byte to {MAX_UPLOAD_BYTES} bytes, not {len(audio)}")
        model = self.settings.openai_transcribe_model
        kwargs = {"language": language} if language else {}
        try:
            reply = self.client.audio.transcriptions.create(
                model=model, file=(filename, audio), response_format="json", **kwargs
            )
        except openai.OpenAIError as exc:
            raise vendor_error(exc, "transcription") from None
        text = " ".join((getattr(reply, "text", None) or "").split())
        usage = getattr(reply, "usage", None)
        return Transcript(
            text=text,
            model=model,
            input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
        )
