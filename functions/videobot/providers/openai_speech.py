"""Speech from OpenAI's Realtime API (gpt-realtime-2.1-mini, the named successor of the
/v1/audio/speech models that shut down on 2027-01-06) through the SDK's realtime client:
`session.update` (voice, 24 kHz PCM out, reading instructions), `conversation.item.create` (the
part's text), `response.create`, then the `response.output_audio.delta` chunks and the
`response.output_audio_transcript.done` transcript until `response.done`.

A voice model may reword a sentence. The transcript is compared with the text (case, punctuation
and spacing aside): a part that was not read verbatim is read again, then left to the fallback
provider (FallbackSpeech, Polly by default)."""

from __future__ import annotations

import base64
import re
from dataclasses import replace

from videobot import media
from videobot.config import Settings
from videobot.errors import VendorFailed, VendorUnavailable
from videobot.observability import logger
from videobot.providers.base import Speech
from videobot.providers.openai_common import make_client, vendor_error

MAX_INPUT_CHARS = 4096
RATE = 24000
# The Realtime API's built-in voices (the SDK's RealtimeAudioConfigOutput.voice), the first the default.
VOICES = ("marin", "cedar", "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse")


class NotVerbatim(VendorFailed):
    """The voice model said something other than the text: its attempts were billed."""

    may_have_spent = True

    def __init__(self, message: str, tokens: tuple[int, int, int] = (0, 0, 0)):
        super().__init__(message)
        self.tokens = tokens  # (audio out, text in, text out) of every attempt


def words(text: str) -> list[str]:
    """The words of a text for the verbatim check: case, punctuation and ё/е aside."""
    return re.findall(r"\w+", text.lower().replace("ё", "е"))


class OpenAISpeech:
    def __init__(self, settings: Settings, client=None):
        # The SDK imports websockets on the first connect; import it here, where the runtime
        # builds providers one at a time (a lazy import from two threads at once can fail).
        import websockets.exceptions
        import websockets.sync.client  # noqa: F401

        self.settings = settings
        self.client = client or make_client(self.settings)

    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Speech:
        text = " ".join(text.split())
        if not text or len(text) > MAX_INPUT_CHARS:
            raise VendorFailed(f"speech input must be 1-{MAX_INPUT_CHARS} characters, not {len(text)}")
        voice = voice if voice in VOICES else self.settings.openai.tts_voice
        tries = self.settings.openai.tts_verbatim_retries + 1
        model, spent = self.settings.openai.tts_model, (0, 0, 0)
        for attempt in range(tries):
            pcm, transcript, tokens = self._speak(text, voice)
            spent = (spent[0] + tokens[0], spent[1] + tokens[1], spent[2] + tokens[2])
            if words(transcript) == words(text):
                return Speech(
                    audio=media.pcm_to_wav(pcm, RATE),
                    extension="wav",
                    characters=len(text),
                    vendor="openai",
                    model=model,
                    audio_tokens=spent[0],
                    text_tokens_in=spent[1],
                    text_tokens_out=spent[2],
                    realtime_model=model,
                )
            logger.warning("speech was not read verbatim", extra={"attempt": attempt + 1, "tries": tries})
        raise NotVerbatim(f"OpenAI speech: the voice model did not read the text verbatim in {tries} tries", spent)

    def _speak(self, text: str, voice: str) -> tuple[bytes, str, tuple[int, int, int]]:
        """One Realtime session: (16-bit 24 kHz mono PCM, the transcript of what was said, its
        billed tokens: audio out, text in, text out, from `response.done`'s usage)."""
        import openai
        from websockets.exceptions import InvalidStatus, WebSocketException

        s = self.settings
        try:
            with self.client.realtime.connect(model=s.openai.tts_model) as connection:
                connection.session.update(
                    session={
                        "type": "realtime",
                        "output_modalities": ["audio"],
                        "instructions": s.openai.tts_instructions,
                        "audio": {"output": {"voice": voice, "format": {"type": "audio/pcm", "rate": RATE}}},
                    }
                )
                connection.conversation.item.create(
                    item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
                )
                connection.response.create()
                audio, transcript, tokens = _spoken(connection)
        except openai.OpenAIError as exc:
            raise vendor_error(exc, "speech") from None
        except InvalidStatus as exc:  # the handshake was refused
            status = exc.response.status_code
            body = (exc.response.body or b"")[:300].decode("utf-8", "replace")
            error = VendorUnavailable if status >= 500 or status == 429 else VendorFailed
            raise error(f"OpenAI speech: HTTP {status} {body}") from None
        except (OSError, WebSocketException) as exc:  # the WebSocket failed or closed, or a handshake was refused
            raise VendorUnavailable(f"OpenAI speech: the Realtime connection failed ({type(exc).__name__})") from None
        if not audio or transcript is None:
            raise VendorUnavailable("OpenAI speech: the response had no audio or no transcript")
        return audio, transcript, tokens


def _tokens(usage) -> tuple[int, int, int]:
    """(audio output, text input, text output) tokens of a realtime response's usage."""
    if usage is None:
        return 0, 0, 0
    out = getattr(usage, "output_token_details", None)
    inp = getattr(usage, "input_token_details", None)
    return (
        int(getattr(out, "audio_tokens", 0) or 0),
        int(getattr(inp, "text_tokens", 0) or getattr(usage, "input_tokens", 0) or 0),
        int(getattr(out, "text_tokens", 0) or 0),
    )


def _spoken(connection) -> tuple[bytes, str | None, tuple[int, int, int]]:
    """The response's audio, the transcript of what was said and its billed tokens, read from
    its events."""
    audio, transcript, tokens = bytearray(), None, (0, 0, 0)
    for event in connection:
        if event.type == "error":
            raise VendorFailed(
                f"OpenAI speech: {event.error.code or event.error.type} {(event.error.message or '')[:300]}"
            )
        if event.type == "response.output_audio.delta":
            audio += base64.b64decode(event.delta)
        elif event.type == "response.output_audio_transcript.done":
            transcript = event.transcript
        elif event.type == "response.done":
            if event.response.status != "completed":
                raise VendorUnavailable(f"OpenAI speech: the response ended {event.response.status}")
            tokens = _tokens(getattr(event.response, "usage", None))
            break
    return bytes(audio), transcript, tokens


class FallbackSpeech:
    """The primary speech provider, and a second one for parts the first could not read
    verbatim (or when the first's model is gone)."""

    def __init__(self, primary, fallback):
        self.primary, self.fallback = primary, fallback

    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Speech:
        try:
            return self.primary.synthesize(text, language=language, voice=voice)
        except NotVerbatim as exc:
            logger.warning("speech falls back", extra={"fallback": type(self.fallback).__name__})
            tokens = exc.tokens
        spoken = self.fallback.synthesize(text, language=language)
        # the primary's attempts were billed too: the part carries their tokens
        model = getattr(getattr(self.primary, "settings", None), "openai", None)
        return replace(
            spoken,
            audio_tokens=spoken.audio_tokens + tokens[0],
            text_tokens_in=spoken.text_tokens_in + tokens[1],
            text_tokens_out=spoken.text_tokens_out + tokens[2],
            realtime_model=model.tts_model if model is not None else spoken.realtime_model,
        )
