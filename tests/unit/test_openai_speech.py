"""OpenAI speech on the Realtime API against the fake (it speaks Realtime's event protocol over
WebSocket): the session and the events sent, WAV audio back, the verbatim check with a retry and
the Polly fallback, errors, and the old /v1/audio/speech models refused after their shutdown."""

from __future__ import annotations

from datetime import date

import pytest
from moto import mock_aws

from tests.fakes.fixtures import openai_vars
from tests.fakes.openai_api import SPEECH_LEAD, speech_seconds
from tests.helpers import use
from videobot import media
from videobot.errors import ConfigurationError, VendorFailed
from videobot.providers import speech_voices
from videobot.providers.openai_speech import FallbackSpeech, NotVerbatim, OpenAISpeech, words
from videobot.providers.polly import PollySpeech

FFMPEG = media.FFmpeg()  # the bundled imageio-ffmpeg, as in the local runner

TEXT = "Утро начинается с чашки  ароматного кофе."


def test_speech_goes_over_the_realtime_api_and_comes_back_as_wav(rt, openai_env, tmp_path):
    speech = rt.speech
    assert isinstance(speech, FallbackSpeech) and isinstance(speech.primary, OpenAISpeech)

    spoken = speech.synthesize(TEXT, language="ru")

    [session] = openai_env.realtime.sessions
    assert session["model"] == "gpt-realtime-2.1-mini"
    kinds = [e["type"] for e in session["events"]]
    assert kinds == ["session.update", "conversation.item.create", "response.create"]
    update, item = session["events"][0]["session"], session["events"][1]["item"]
    assert update["type"] == "realtime" and update["output_modalities"] == ["audio"]
    assert update["audio"]["output"] == {"voice": "marin", "format": {"type": "audio/pcm", "rate": 24000}}
    assert "word for word" in update["instructions"]
    assert item == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Утро начинается с чашки ароматного кофе."}],
    }
    assert openai_env.calls("POST /v1/audio/speech") == []
    assert spoken.extension == "wav" and spoken.audio[:4] == b"RIFF" and spoken.vendor == "openai"
    assert spoken.model == "gpt-realtime-2.1-mini" and spoken.characters == len(" ".join(TEXT.split()))
    path = tmp_path / "speech.wav"
    path.write_bytes(spoken.audio)
    # the fake's voice read the 6 words whole, with its silence around them
    assert FFMPEG.duration(path) == pytest.approx(speech_seconds(TEXT) + 2 * SPEECH_LEAD, abs=0.02)


def test_a_reworded_reading_is_read_again(rt, openai_env):
    openai_env.realtime.reword_next("Утро всегда начинается с чашки кофе.")
    spoken = rt.speech.synthesize(TEXT, language="ru")
    assert spoken.vendor == "openai" and len(openai_env.realtime.sessions) == 2


def test_a_reading_that_stays_reworded_falls_back_to_polly(setup, rt, openai_env):
    openai_env.realtime.reword_next("Доброе утро! Кофе?", times=5)
    with mock_aws():
        speech = rt.with_env().speech  # built inside moto
        assert isinstance(speech.fallback, PollySpeech)
        spoken = speech.synthesize(TEXT, language="ru")
    assert spoken.vendor == "polly" and len(openai_env.realtime.sessions) == 2  # 1 + 1 retry
    with use(setup, TTS_FALLBACK_PROVIDER="none") as tuned:
        openai_env.realtime.reword_next("Доброе утро! Кофе?", times=5)
        with pytest.raises(NotVerbatim):
            tuned.speech.synthesize(TEXT, language="ru")


def test_the_verbatim_check_ignores_case_punctuation_and_yo():
    assert words("Утро — начинается с  тёплого кофе!") == words("утро начинается с теплого кофе")
    assert words("Утро начинается с кофе") != words("Утро начинается с чая")


def test_realtime_voices_only_and_the_fake_refuses_others(setup, rt, fake_openai):
    with use(setup, **openai_vars(fake_openai)) as tuned:
        voices = speech_voices(tuned.settings)
        assert voices[0] == "marin" and "cedar" in voices and "fable" not in voices and "onyx" not in voices
        spoken = tuned.speech.synthesize("Coffee time.", language="en", voice="cedar")
    assert spoken.vendor == "openai"
    assert fake_openai.realtime.sessions[-1]["session"]["audio"]["output"]["voice"] == "cedar"
    with use(
        setup, **{**openai_vars(fake_openai), "OPENAI_TTS_VOICE": "fable", "TTS_FALLBACK_PROVIDER": "none"}
    ) as tuned:
        with pytest.raises(VendorFailed, match="Invalid voice: 'fable'"):
            tuned.speech.synthesize("Coffee time.", language="en")


def test_the_fake_refuses_a_wrong_key_and_a_speech_model_on_the_realtime_api(rt, fake_openai):
    settings = rt.settings.with_values(
        OPENAI_API_KEY="sk-wrong",
        OPENAI_BASE_URL=f"{fake_openai.url}/v1",
        OPENAI_WEBSOCKET_BASE_URL=fake_openai.realtime.url,
    )
    with pytest.raises(VendorFailed, match="HTTP 401"):
        OpenAISpeech(settings).synthesize("Coffee time.", language="en")
    settings = settings.with_values(OPENAI_API_KEY="sk-test-fake-openai", OPENAI_TTS_MODEL="tts-1")
    with pytest.raises(VendorFailed, match=r"HTTP 400 .*not a Realtime model"):
        OpenAISpeech(settings).synthesize("Coffee time.", language="en")


def test_the_old_speech_models_are_refused_at_start_up_and_by_the_fake_after_their_shutdown(rt, fake_openai):
    with pytest.raises(ConfigurationError, match="OPENAI_TTS_MODEL: 'gpt-4o-mini-tts' is not a known model"):
        rt.with_env(**{**openai_vars(fake_openai), "OPENAI_TTS_MODEL": "gpt-4o-mini-tts"})
    import requests

    fake_openai.today = date(2027, 1, 6)
    reply = requests.post(
        f"{fake_openai.url}/v1/audio/speech",
        timeout=10,
        headers={"Authorization": "Bearer sk-test-fake-openai"},
        json={"model": "gpt-4o-mini-tts", "voice": "coral", "input": "Coffee."},
    )
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "model_not_found"


def test_too_long_input_is_refused_before_any_session(rt, openai_env):
    with pytest.raises(VendorFailed, match="1-4096"):
        rt.speech.synthesize("кофе " * 1000, language="ru")
    assert openai_env.realtime.sessions == []
