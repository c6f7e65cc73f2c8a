"""Amazon Polly as the second voice, on moto: the request (a Russian voice for a Russian
script) and how Polly's errors map onto ours."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests.helpers import use
from videobot import config
from videobot.config import POLLY_VOICES
from videobot.errors import ConfigurationError, VendorFailed, VendorUnavailable
from videobot.providers.polly import PollySpeech


@pytest.fixture
def polly(setup, rt):
    with mock_aws(), use(setup, TTS_PROVIDER="polly") as tuned:
        yield tuned.speech


def test_tts_provider_polly_speaks_russian_with_tatyana(polly):
    assert isinstance(polly, PollySpeech)
    calls = []
    polly.client.meta.events.register(
        "provide-client-params.polly.SynthesizeSpeech", lambda params, **_: calls.append(dict(params))
    )

    spoken = polly.synthesize("Утро начинается с кофе.", language="ru")

    assert calls[0]["VoiceId"] == "Tatyana" and calls[0]["Engine"] == "standard"
    assert calls[0]["OutputFormat"] == "mp3" and calls[0]["Text"] == "Утро начинается с кофе."
    assert spoken.extension == "mp3" and spoken.vendor == "polly" and spoken.model == "standard:Tatyana"
    assert spoken.characters == len("Утро начинается с кофе.")


def test_an_english_script_gets_the_english_voice(polly):
    assert polly.voice_for("en") == "Joanna" and polly.voice_for("ru") == "Tatyana"
    assert polly.synthesize("Coffee time.", language="en").model == "standard:Joanna"


@pytest.mark.parametrize(
    "code, error",
    [
        ("ThrottlingException", VendorUnavailable),
        ("ServiceFailureException", VendorUnavailable),
        ("TextLengthExceededException", VendorFailed),
        ("InvalidSampleRateException", VendorFailed),
    ],
)
def test_polly_errors(rt, code, error):
    client = boto3.client("polly", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_client_error("synthesize_speech", service_error_code=code, http_status_code=400)
    with stub, pytest.raises(error, match=code):
        PollySpeech(rt.settings, client=client).synthesize("Coffee.", language="en")


def test_an_unknown_voice_is_refused_by_polly(setup, rt, polly):
    with use(setup, POLLY_VOICE_RU="Nobody") as tuned:
        with pytest.raises(VendorFailed, match="InvalidParameterValue"):
            tuned.speech.synthesize("Кофе.", language="ru")


def test_polly_refuses_an_engine_its_voice_does_not_support(polly):
    """Tatyana and Maxim are standard-engine voices (Polly's voice list): neural fails Russian."""
    neural = polly.settings.with_values(POLLY_ENGINE="neural")
    with pytest.raises(VendorFailed, match="EngineNotSupportedException"):
        PollySpeech(neural, client=polly.client).synthesize("Кофе.", language="ru")
    with pytest.raises(VendorFailed, match="EngineNotSupportedException"):
        PollySpeech(neural, client=polly.client).synthesize("Кофе.", language="ru", voice="Maxim")
    assert PollySpeech(neural, client=polly.client).synthesize("Coffee.", language="en").model == "neural:Joanna"


def test_our_polly_voices_and_their_engines_are_pollys(polly):
    listed = {v["Id"]: v for v in polly.client.describe_voices()["Voices"]}
    for name, (language, engines) in POLLY_VOICES.items():
        assert listed[name]["LanguageCode"].startswith(language) and set(listed[name]["SupportedEngines"]) == set(
            engines
        )
    assert set(PollySpeech.VOICES) == set(POLLY_VOICES)


@pytest.mark.parametrize(
    "env, refused_voices",
    [
        ({"TTS_PROVIDER": "polly", "POLLY_ENGINE": "neural"}, "Tatyana, Maxim"),  # /settings offers both
        ({"TTS_PROVIDER": "openai", "OPENAI_API_KEY": "sk-x", "POLLY_ENGINE": "neural"}, "Tatyana"),  # fallback
        ({"TTS_PROVIDER": "polly", "POLLY_ENGINE": "neural", "POLLY_VOICE_RU": "Maxim"}, "Maxim, Tatyana"),
        ({"TTS_PROVIDER": "polly"}, None),  # standard: every voice offered speaks
        (
            {
                "TTS_PROVIDER": "openai",
                "OPENAI_API_KEY": "sk-x",
                "TTS_FALLBACK_PROVIDER": "none",
                "POLLY_ENGINE": "neural",
            },
            None,
        ),
        ({"TTS_PROVIDER": "offline", "POLLY_ENGINE": "neural"}, None),  # Polly not used
    ],
)
def test_neural_with_a_russian_standard_only_voice_is_refused_at_start_up(env, refused_voices):
    if refused_voices is None:
        assert config.settings_from_environ(env).polly.engine == env.get("POLLY_ENGINE", "standard")
        return
    with pytest.raises(ConfigurationError) as error:
        config.settings_from_environ(env)
    assert str(error.value) == (
        f"POLLY_ENGINE=neural: Polly does not run {refused_voices} on the neural engine (its voice list: "
        "standard only), so Russian narration would fail; set POLLY_ENGINE=standard"
    )
