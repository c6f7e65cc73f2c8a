"""The model catalogue (config.MODELS) against the fakes' shutdown dates: every date an OpenAI fake
enforces is in the catalogue, so start-up warns about a model before the vendor refuses it and
refuses it from that day with its replacement named; the fakes answer a model past its date as
OpenAI does (404 model_not_found), the Realtime handshake included."""

from __future__ import annotations

from datetime import date

import pytest

from tests.fakes.fixtures import openai_vars
from tests.fakes.openai_api import SHUTDOWNS
from videobot.config import MODELS, Model, Settings, check_models
from videobot.errors import ConfigurationError, VendorFailed
from videobot.providers.openai_llm import OpenAILLM
from videobot.providers.openai_speech import OpenAISpeech

OPENAI_CAPABILITIES = ("llm", "speech", "realtime_speech", "transcription")


def test_the_catalogue_knows_every_shutdown_the_fakes_enforce():
    openai_models = {name for name, m in MODELS.items() if m.capability in OPENAI_CAPABILITIES}
    assert set(SHUTDOWNS) <= openai_models, "a model the fake retires is unknown to the catalogue"
    assert {name: MODELS[name].shuts_down for name in openai_models} == {
        name: SHUTDOWNS.get(name) for name in openai_models
    }


def test_every_dated_model_names_a_current_replacement():
    for name, model in MODELS.items():
        if model.shuts_down:
            assert model.replacement in MODELS, name
            assert MODELS[model.replacement].shuts_down is None, f"{name} -> {model.replacement}"


def test_gpt_4_1_mini_is_warned_about_then_refused_at_start_up_before_openai_refuses_it(rt, fake_openai):
    settings = Settings(OPENAI_API_KEY="sk", OPENAI_MODEL="gpt-4.1-mini", TTS_PROVIDER="offline")
    assert check_models(settings, date(2027, 1, 4)) == [
        "OPENAI_MODEL: gpt-4.1-mini shuts down on 2027-01-14 (10 days); replace it with gpt-5.4-mini"
    ]
    with pytest.raises(ConfigurationError, match=r"gpt-4\.1-mini was shut down on 2027-01-14; use gpt-5\.4-mini"):
        check_models(settings, date(2027, 1, 14))
    # what the vendor does from that day to a bot that kept the model
    with_fake = rt.with_env(**openai_vars(fake_openai)).settings
    client = with_fake.with_values(OPENAI_MODEL="gpt-4.1-mini")
    fake_openai.today = date(2027, 1, 13)
    assert len(OpenAILLM(client).write_script("Реклама кофе").segments) == 10
    fake_openai.today = date(2027, 1, 14)
    with pytest.raises(VendorFailed, match=r"HTTP 404 The model `gpt-4\.1-mini` has been deprecated"):
        OpenAILLM(client).write_script("Реклама кофе")


@pytest.mark.parametrize("model", ["gpt-realtime", "gpt-realtime-mini"])
def test_the_old_realtime_models_are_warned_about_then_refused_and_the_fake_refuses_them(rt, fake_openai, model):
    settings = Settings(OPENAI_API_KEY="sk", OPENAI_TTS_MODEL=model, TTS_PROVIDER="openai")
    assert check_models(settings, date(2027, 1, 10)) == [
        f"OPENAI_TTS_MODEL: {model} shuts down on 2027-01-20 (10 days); replace it with gpt-realtime-2.1-mini"
    ]
    with pytest.raises(ConfigurationError, match=f"{model} was shut down on 2027-01-20; use gpt-realtime-2.1-mini"):
        check_models(settings, date(2027, 1, 20))
    with_fake = rt.with_env(**openai_vars(fake_openai)).settings
    client = with_fake.with_values(OPENAI_TTS_MODEL=model)
    fake_openai.today = date(2027, 1, 19)
    assert OpenAISpeech(client).synthesize("Coffee time.", language="en").model == model
    fake_openai.today = date(2027, 1, 20)
    with pytest.raises(VendorFailed, match=f"HTTP 404 .*The model `{model}` has been deprecated"):
        OpenAISpeech(client).synthesize("Coffee time.", language="en")
    assert OpenAISpeech(with_fake).synthesize("Coffee time.", language="en").model == "gpt-realtime-2.1-mini"


def test_a_video_model_users_may_pick_is_checked_for_its_date_too(monkeypatch):
    monkeypatch.setitem(MODELS, "gen4.5", Model("gen4.5", "video", date(2027, 3, 1), "gen4_turbo"))
    settings = Settings(RUNWAYML_API_SECRET="key", RUNWAY_VIDEO_MODELS="gen4_turbo,gen4.5")
    assert check_models(settings, date(2027, 2, 1)) == [
        "RUNWAY_VIDEO_MODELS: gen4.5 shuts down on 2027-03-01 (28 days); replace it with gen4_turbo"
    ]
    with pytest.raises(ConfigurationError, match=r"RUNWAY_VIDEO_MODELS: gen4\.5 was shut down on 2027-03-01"):
        check_models(settings, date(2027, 3, 1))
    assert check_models(Settings(RUNWAY_VIDEO_MODELS="gen4_turbo,gen4.5"), date(2027, 3, 1)) == []  # offline
