"""Speech from Amazon Polly through boto3: the AWS-native second voice. Russian uses Tatyana
(a standard voice: Polly has no neural Russian voice), English Joanna; both are settings."""

from __future__ import annotations

from videobot.config import POLLY_VOICES, Settings
from videobot.errors import VendorFailed, VendorUnavailable
from videobot.providers.base import Speech

MAX_INPUT_CHARS = 3000  # Polly's limit for billed characters per request
_RETRIABLE = {
    "ThrottlingException",
    "ServiceFailureException",
    "ServiceUnavailableException",
    "TooManyRequestsException",
    "RequestTimeout",
}


class PollySpeech:
    def __init__(self, settings: Settings, client=None):
        self.settings = settings
        if client is None:
            import boto3  # provided by the Lambda runtime

            client = boto3.client("polly")
        self.client = client

    # The voices a user may pick in /settings, with the language each speaks.
    VOICES = {name: language for name, (language, _) in POLLY_VOICES.items()}

    def voice_for(self, language: str, voice: str | None = None) -> str:
        """The chosen voice when it speaks the narration's language, else the default."""
        family = "ru" if language.startswith("ru") else "en"
        if voice and self.VOICES.get(voice) == family:
            return voice
        return self.settings.polly.voice_ru if family == "ru" else self.settings.polly.voice_en

    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Speech:
        from botocore.exceptions import BotoCoreError, ClientError

        text = " ".join(text.split())
        if not text or len(text) > MAX_INPUT_CHARS:
            raise VendorFailed(f"Polly input must be 1-{MAX_INPUT_CHARS} characters, not {len(text)}")
        try:
            reply = self.client.synthesize_speech(
                Text=text,
                TextType="text",
                OutputFormat="mp3",
                SampleRate="22050",
                VoiceId=self.voice_for(language, voice),
                Engine=self.settings.polly.engine,
            )
            audio = reply["AudioStream"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _RETRIABLE or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
                raise VendorUnavailable(f"Polly: {code}") from None
            raise VendorFailed(f"Polly: {code} {exc.response.get('Error', {}).get('Message', '')}"[:300]) from None
        except BotoCoreError as exc:
            raise VendorUnavailable(f"Polly: {type(exc).__name__}") from None
        if not audio:
            raise VendorFailed("Polly returned no audio")
        characters = int(reply.get("RequestCharacters") or len(text))
        return Speech(
            audio=audio,
            extension="mp3",
            characters=characters,
            vendor="polly",
            model=f"{self.settings.polly.engine}:{self.voice_for(language, voice)}",
        )
