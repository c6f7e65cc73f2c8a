"""moto's Polly, taught a rule it does not enforce: SynthesizeSpeech with an Engine the voice does
not support answers 400 EngineNotSupportedException, as Polly does ("This engine is not compatible
with the voice that you have designated"; the Engine defaults to standard). Which engines each
voice supports is moto's copy of Polly's voice list (DescribeVoices' SupportedEngines), where
Tatyana and Maxim, the Russian voices, are standard only."""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

from moto.polly.resources import VOICE_DATA
from moto.polly.responses import PollyResponse

ENGINES = {voice["Id"]: frozenset(voice["SupportedEngines"]) for voice in VOICE_DATA}
_speech = PollyResponse.speech


def _speech_with_engines(self: PollyResponse):
    voice, engine = self.json.get("VoiceId"), self.json.get("Engine", "standard")
    if voice in ENGINES and engine not in ENGINES[voice]:
        return self._error(
            "EngineNotSupportedException",
            "This engine is not compatible with the voice that you have designated. Choose a new "
            "voice that is compatible with the engine or change the engine and restart the operation.",
        )
    return _speech(self)


@contextmanager
def engines_enforced():
    with mock.patch.object(PollyResponse, "speech", _speech_with_engines):
        yield
