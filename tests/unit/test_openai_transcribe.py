"""Transcription and the model catalogue: the default transcription model outlives the
announced shutdowns, the fake refuses a model past its shutdown date as OpenAI does, and the
start-up check refuses unknown or retired models and warns about announced shutdowns."""

from __future__ import annotations

from datetime import date

import pytest

from tests.fakes.fixtures import openai_vars
from tests.helpers import use
from videobot import config, observability
from videobot.config import MODEL_SETTINGS, MODELS, Settings, check_models
from videobot.errors import ConfigurationError, VendorFailed
from videobot.providers.openai_transcribe import OpenAITranscriber

OGG = b"OggS\x00\x02" + bytes(range(256)) * 20
AFTER_THE_SHUTDOWNS = date(2027, 6, 1)


def test_the_default_transcription_model_works_after_the_old_ones_shut_down(setup, rt, fake_openai):
    fake_openai.today = AFTER_THE_SHUTDOWNS
    with use(setup, **openai_vars(fake_openai)) as tuned:
        transcript = OpenAITranscriber(tuned.settings).transcribe(OGG, language="ru")
    assert transcript.model == "gpt-transcribe" and transcript.text == "Реклама кофе"
    assert fake_openai.transcribed[0]["model"] == "gpt-transcribe"


def test_the_fake_refuses_a_model_from_its_shutdown_date(setup, rt, fake_openai):
    with use(setup, **{**openai_vars(fake_openai), "OPENAI_TRANSCRIBE_MODEL": "gpt-4o-mini-transcribe"}) as tuned:
        fake_openai.today = date(2027, 2, 25)
        assert OpenAITranscriber(tuned.settings).transcribe(OGG).model == "gpt-4o-mini-transcribe"
        fake_openai.today = date(2027, 2, 26)
        with pytest.raises(VendorFailed, match="HTTP 404 The model `gpt-4o-mini-transcribe` has been deprecated"):
            OpenAITranscriber(tuned.settings).transcribe(OGG)


def test_no_default_names_a_model_shutting_down_before_june_2027():
    defaults = Settings(OPENAI_API_KEY="sk", RUNWAYML_API_SECRET="key", TTS_PROVIDER="openai")
    for setting, (_, value_of) in MODEL_SETTINGS.items():
        model = MODELS[value_of(defaults)]
        assert model.shuts_down is None or model.shuts_down >= date(2027, 6, 1), setting
    for name in defaults.runway.video_model_choices:
        assert MODELS[name].shuts_down is None, name
    assert check_models(defaults, AFTER_THE_SHUTDOWNS) == []


def test_start_up_refuses_unknown_and_retired_models_and_warns_about_announced_shutdowns():
    with pytest.raises(ConfigurationError, match="OPENAI_MODEL: 'gpt-9' is not a known model"):
        check_models(Settings(OPENAI_MODEL="gpt-9"))
    with pytest.raises(ConfigurationError, match="RUNWAY_VIDEO_MODEL: 'gen3a_turbo'"):
        check_models(Settings(RUNWAY_VIDEO_MODEL="gen3a_turbo"))
    with pytest.raises(ConfigurationError, match="OPENAI_TRANSCRIBE_MODEL: 'gen4_turbo'"):
        check_models(Settings(OPENAI_TRANSCRIBE_MODEL="gen4_turbo"))  # a model of another kind
    retired = Settings(OPENAI_API_KEY="sk", OPENAI_MODEL="gpt-5-mini", TTS_PROVIDER="offline")
    with pytest.raises(ConfigurationError, match=r"gpt-5-mini was shut down on 2026-12-11; use gpt-5\.4-mini"):
        check_models(retired, date(2026, 12, 11))
    assert check_models(retired, date(2026, 12, 2)) == [
        "OPENAI_MODEL: gpt-5-mini shuts down on 2026-12-11 (9 days); replace it with gpt-5.4-mini"
    ]
    # A model the chosen providers do not use is not worth a warning.
    assert check_models(Settings(OPENAI_MODEL="gpt-5-mini"), date(2026, 12, 2)) == []


def test_the_warning_reaches_the_log_at_start_up(monkeypatch):
    logged = []
    monkeypatch.setattr(observability.logger, "warning", lambda message, extra: logged.append((message, extra)))
    monkeypatch.setattr(config, "today", lambda: date(2027, 2, 1))
    config.settings_from_environ(
        {"OPENAI_API_KEY": "sk-x", "TTS_PROVIDER": "offline", "OPENAI_TRANSCRIBE_MODEL": "whisper-1"}
    )
    assert logged == [
        (
            "a configured model shuts down soon",
            {
                "model_warning": (
                    "OPENAI_TRANSCRIBE_MODEL: whisper-1 shuts down on 2027-02-26 (25 days); "
                    "replace it with gpt-transcribe"
                )
            },
        )
    ]
    monkeypatch.setattr(config, "today", lambda: date(2027, 2, 26))
    with pytest.raises(ConfigurationError, match="whisper-1 was shut down"):
        config.settings_from_environ(
            {"OPENAI_API_KEY": "sk-x", "TTS_PROVIDER": "offline", "OPENAI_TRANSCRIBE_MODEL": "whisper-1"}
        )


def test_the_fake_takes_only_the_sdks_formats_and_a_voice_note_goes_as_ogg(rt, fake_openai):
    """The SDK's list (openai 3.51) has ogg, not oga: gpt-transcribe refuses a Telegram voice note
    under its own name (file_N.oga); whisper-1 alone still took oga. The client sends it as .ogg."""
    import requests

    def post(name: str, model: str):
        return requests.post(
            f"{fake_openai.url}/v1/audio/transcriptions",
            headers={"Authorization": "Bearer sk-test-fake-openai"},
            files={"file": (name, OGG)},
            data={"model": model},
            timeout=10,
        )

    refused = post("file_3.oga", "gpt-transcribe")
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "message": "Unsupported file format oga",
        "type": "invalid_request_error",
        "param": "file",
        "code": "unsupported_value",
    }
    assert post("file_3.ogg", "gpt-transcribe").status_code == 200
    assert post("file_3.oga", "whisper-1").status_code == 200
    transcriber = OpenAITranscriber(rt.with_env(**openai_vars(fake_openai)).settings)
    for name in ("file_3.oga", "file_4.opus", "", "voice"):
        transcriber.transcribe(OGG, filename=name)
    sent = [t["filename"] for t in fake_openai.transcribed][2:]  # after the two direct uploads it took
    assert sent == ["file_3.ogg", "file_4.ogg", "voice.ogg", "voice.ogg"]
