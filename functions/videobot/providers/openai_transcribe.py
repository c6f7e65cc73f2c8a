"""Voice topics: OpenAI's `POST /v1/audio/transcriptions` (gpt-transcribe by default)
turns a Telegram voice note (Ogg/Opus, which Telegram names `file_N.oga`) into the topic's text.
The client is the shared one (OPENAI_BASE_URL, the SDK's retries on 429/5xx, never on 400).

The endpoint reads the format from the upload's file name and takes only the SDK's list of
formats (openai 3.51): flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav, webm. `oga` is not among them
(gpt-transcribe answers 400 "Unsupported file format oga"), so an Ogg file goes as `.ogg`."""

from __future__ import annotations

from videobot.config import Settings
from videobot.errors import VendorFailed
from videobot.providers.base import Transcript
from videobot.providers.openai_common import make_client, vendor_error

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # the endpoint's limit; Telegram lets bots download 20 MB
OGG_EXTENSIONS = ("oga", "opus")  # the same Ogg container under names the endpoint refuses


def upload_name(filename: str) -> str:
    """The file name to upload: `.ogg` for an Ogg file named `.oga` or `.opus`, `voice.ogg` for a
    file without a name or an extension (Telegram's voice notes are Ogg/Opus); any other name as
    it is (a format the endpoint does not take is its 400, not a renamed guess)."""
    stem, dot, extension = filename.rpartition(".")
    if not (stem and dot and extension):
        return "voice.ogg"
    if extension.lower() in OGG_EXTENSIONS:
        return f"{stem}.ogg"
    return filename


class OpenAITranscriber:
    def __init__(self, settings: Settings, client=None):
        self.settings = settings
        self.client = client or make_client(self.settings)

    def transcribe(self, audio: bytes, *, filename: str = "voice.ogg", language: str | None = None) -> Transcript:
        import openai

        if not audio or len(audio) > MAX_UPLOAD_BYTES:
            raise VendorFailed(f"the recording must be 1 byte to {MAX_UPLOAD_BYTES} bytes, not {len(audio)}")
        model = self.settings.openai.transcribe_model
        kwargs = {"language": language} if language else {}
        try:
            reply = self.client.audio.transcriptions.create(
                model=model, file=(upload_name(filename), audio), response_format="json", **kwargs
            )
        except openai.OpenAIError as exc:
            raise vendor_error(exc, "transcription") from None
        text = " ".join((getattr(reply, "text", None) or "").split())
        # What it is billed by: `usage` is {type: "duration", seconds} for a model billed by the
        # minute (gpt-transcribe), or {type: "tokens", input_tokens, output_tokens} (openai 3.51's
        # TranscriptTextUsageDuration / TranscriptTextUsageTokens): both are read.
        usage = getattr(reply, "usage", None)
        seconds = getattr(usage, "seconds", None) if getattr(usage, "type", None) == "duration" else None
        return Transcript(
            text=text,
            model=model,
            input_tokens=int(getattr(usage, "input_tokens", 0) or 0),
            output_tokens=int(getattr(usage, "output_tokens", 0) or 0),
            seconds=float(seconds) if seconds is not None else None,
        )
