"""Amazon Polly as the second voice, on moto: the request (a Russian voice for a Russian
script) and how Polly's errors map onto ours."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tests.helpers import use
from videobot.errors import VendorFailed, VendorUnavailable
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
