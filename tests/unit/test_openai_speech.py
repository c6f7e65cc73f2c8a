"""OpenAI speech (`POST /v1/audio/speech`) against the fake: the request, the audio checked to be
the format asked for, and the errors."""

from __future__ import annotations

import pytest

from tests.fakes.fixtures import openai_vars, vendor_env
from videobot import media, runtime
from videobot.errors import VendorFailed, VendorUnavailable
from videobot.providers.openai_speech import OpenAISpeech


def test_speech_request_and_a_real_mp3_back(openai_env, tmp_path):
    speech = runtime.current().speech
    assert isinstance(speech, OpenAISpeech)

    spoken = speech.synthesize("Утро начинается с чашки  ароматного кофе.", language="ru")

    [call] = openai_env.calls("POST /v1/audio/speech")
    body = call.json()
    assert call.headers["authorization"] == "Bearer sk-test-fake-openai"
    assert (
        body["model"] == "gpt-4o-mini-tts" and body["voice"] == "coral" and body["response_format"] == "mp3"
    )
    assert body["input"] == "Утро начинается с чашки ароматного кофе." and "narrator" in body["instructions"]
    assert spoken.extension == "mp3" and spoken.vendor == "openai" and spoken.characters == len(body["input"])
    path = tmp_path / "speech.mp3"
    path.write_bytes(spoken.audio)
    assert media.media_duration(path) == pytest.approx(6 / 2.6, abs=0.15)  # the fake's 6 words


def test_voice_format_and_model_are_settings_and_tts_1_gets_no_instructions(fake_openai):
    with vendor_env(
        {
            **openai_vars(fake_openai),
            "OPENAI_TTS_MODEL": "tts-1",
            "OPENAI_TTS_VOICE": "onyx",
            "OPENAI_TTS_FORMAT": "wav",
        }
    ):
        spoken = runtime.current().speech.synthesize("Coffee time.", language="en")
    body = fake_openai.calls("POST /v1/audio/speech")[0].json()
    assert body["model"] == "tts-1" and body["voice"] == "onyx" and "instructions" not in body
    assert spoken.extension == "wav" and spoken.audio[:4] == b"RIFF"


def test_a_bad_voice_is_a_400_and_never_retried(fake_openai):
    with vendor_env({**openai_vars(fake_openai), "OPENAI_TTS_VOICE": "nobody"}):
        with pytest.raises(VendorFailed, match="HTTP 400 Invalid voice"):
            runtime.current().speech.synthesize("Coffee time.", language="en")
    assert len(fake_openai.calls("POST /v1/audio/speech")) == 1


def test_5xx_is_retried_then_unavailable(openai_env):
    openai_env.fail("POST /v1/audio/speech", 502, times=1, headers={"retry-after-ms": "10"})
    assert runtime.current().speech.synthesize("Coffee time.", language="en").audio
    openai_env.fail("POST /v1/audio/speech", 500, times=5, headers={"retry-after-ms": "10"})
    with pytest.raises(VendorUnavailable):
        runtime.current().speech.synthesize("Coffee time.", language="en")


def test_a_reply_that_is_not_the_asked_format_is_refused(openai_env):
    openai_env.fail(
        "POST /v1/audio/speech",
        200,
        body=b"\xff\xf1 this is AAC, not MP3",
        headers={"Content-Type": "audio/mpeg"},
    )
    with pytest.raises(VendorFailed, match="not mp3"):
        runtime.current().speech.synthesize("Coffee time.", language="en")


def test_too_long_input_is_refused_before_any_call(openai_env):
    with pytest.raises(VendorFailed, match="1-4096"):
        runtime.current().speech.synthesize("кофе " * 1000, language="ru")
    assert openai_env.calls("POST /v1/audio/speech") == []
