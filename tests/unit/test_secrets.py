"""Secret-backed settings: Secrets Manager on AWS (moto here), the plain environment locally."""

from __future__ import annotations

import json
import uuid
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from videobot import config, secrets
from videobot.errors import ConfigurationError

BOT_TOKEN = "123456:AAH-bot-token-from-botfather"
OPENAI_KEY = "sk-test-openai"
RUNWAY_KEY = "key_test_runway"
WEBHOOK_SECRET = "w3bhookSecretFromSecretsManager"


@pytest.fixture
def sm():
    with mock_aws():
        parameters.clear_caches()
        yield boto3.client("secretsmanager", region_name="us-east-1")
        parameters.clear_caches()


def _name(label: str) -> str:
    """Unique per test: moto's state outlives a nested mock_aws when another mock is active."""
    return f"{label}-{uuid.uuid4().hex[:8]}"


def _vendor_secrets(sm) -> dict[str, str]:
    """One secret per vendor, as template.yaml creates them: the environment each function gets."""
    return {
        "TELEGRAM_BOT_TOKEN_SECRET_ARN": sm.create_secret(Name=_name("telegram"), SecretString=BOT_TOKEN)["ARN"],
        "OPENAI_API_KEY_SECRET_ARN": sm.create_secret(Name=_name("openai"), SecretString=OPENAI_KEY)["ARN"],
        "RUNWAYML_API_SECRET_SECRET_ARN": sm.create_secret(Name=_name("runway"), SecretString=RUNWAY_KEY)["ARN"],
    }


def test_settings_come_from_one_secret_per_vendor_and_the_webhook_secret(sm):
    hook_arn = sm.create_secret(Name=_name("hook"), SecretString=WEBHOOK_SECRET)["ARN"]
    env = {
        **_vendor_secrets(sm),
        "TELEGRAM_WEBHOOK_SECRET_SECRET_ARN": hook_arn,
        "LLM_PROVIDER": "openai",
        "VIDEO_PROVIDER": "runway",
        "NOTIFIER_PROVIDER": "telegram",
        "DATABASE_URL": "postgresql://u:p@h/db",
    }

    resolved = secrets.resolve_secret_settings(env)
    assert resolved == {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "OPENAI_API_KEY": OPENAI_KEY,
        "RUNWAYML_API_SECRET": RUNWAY_KEY,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }

    settings = config.settings_from_environ(env)
    assert settings.openai.api_key == OPENAI_KEY
    assert settings.runway.api_secret == RUNWAY_KEY
    assert settings.providers.llm == "openai" and settings.providers.video == "runway"
    assert settings.database.url == "postgresql://u:p@h/db"
    assert OPENAI_KEY not in repr(settings) and RUNWAY_KEY not in repr(settings)


def test_a_function_told_of_one_vendor_reads_only_that_vendors_secret(sm):
    arns = _vendor_secrets(sm)
    env = {"OPENAI_API_KEY_SECRET_ARN": arns["OPENAI_API_KEY_SECRET_ARN"], "LLM_PROVIDER": "openai"}
    assert secrets.resolve_secret_settings(env) == {"OPENAI_API_KEY": OPENAI_KEY}
    settings = config.settings_from_environ(env)
    assert settings.runway.api_secret is None and settings.telegram.bot_token is None


def test_plain_environment_wins_and_is_not_fetched(sm):
    env = {
        **_vendor_secrets(sm),
        "OPENAI_API_KEY": "sk-local",
        "TELEGRAM_WEBHOOK_SECRET": "local-secret",
        "TELEGRAM_WEBHOOK_SECRET_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone",
    }
    resolved = secrets.resolve_secret_settings(env)  # the missing ARN is never asked for
    assert "TELEGRAM_WEBHOOK_SECRET" not in resolved and "OPENAI_API_KEY" not in resolved
    assert config.settings_from_environ(env).openai.api_key == "sk-local"


def test_without_secret_arns_nothing_touches_aws():
    assert secrets.resolve_secret_settings({"OPENAI_API_KEY": "sk-local", "PATH": "/bin"}) == {}


def test_a_json_secret_per_setting_is_read_by_its_name(sm):
    secret = json.dumps({"OPENAI_API_KEY": OPENAI_KEY, "other": "x"})
    arn = sm.create_secret(Name=_name("one"), SecretString=secret)["ARN"]
    assert secrets.resolve_secret_settings({"OPENAI_API_KEY_SECRET_ARN": arn}) == {"OPENAI_API_KEY": OPENAI_KEY}


def test_rds_managed_secret_becomes_a_quoted_database_url(sm):
    password = "p@ss:w/rd?#%"
    secret = json.dumps({"username": "videobot", "password": password})
    arn = sm.create_secret(Name=_name("rds"), SecretString=secret)["ARN"]
    env = {
        "DATABASE_SECRET_ARN": arn,
        "DATABASE_HOST": "db.internal",
        "DATABASE_PORT": "5432",
        "DATABASE_NAME": "videobot",
    }
    url = config.settings_from_environ(env).database.url
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.port, parts.path) == ("postgresql", "db.internal", 5432, "/videobot")
    assert unquote(parts.username) == "videobot" and unquote(parts.password) == password
    assert parts.query == "sslmode=require"


def test_an_external_database_url_secret_wins_over_the_rds_secret(sm):
    url = "postgresql://ext:pw@neon.example/db?sslmode=require"
    arn = sm.create_secret(Name=_name("dburl"), SecretString=url)["ARN"]
    env = {"DATABASE_URL_SECRET_ARN": arn, "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:unused"}
    assert config.settings_from_environ(env).database.url == url


def test_secrets_are_cached_for_five_minutes(sm):
    env = {"OPENAI_API_KEY_SECRET_ARN": _vendor_secrets(sm)["OPENAI_API_KEY_SECRET_ARN"]}
    assert secrets.resolve_secret_settings(env)["OPENAI_API_KEY"] == OPENAI_KEY
    sm.put_secret_value(SecretId=env["OPENAI_API_KEY_SECRET_ARN"], SecretString="sk-rotated")
    assert secrets.resolve_secret_settings(env)["OPENAI_API_KEY"] == OPENAI_KEY  # served from the cache
    parameters.clear_caches()
    assert secrets.resolve_secret_settings(env)["OPENAI_API_KEY"] == "sk-rotated"


def test_errors_name_the_variable_never_a_value(sm):
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
    with pytest.raises(ConfigurationError, match="RUNWAYML_API_SECRET_SECRET_ARN"):
        secrets.resolve_secret_settings({"RUNWAYML_API_SECRET_SECRET_ARN": missing})
    broken_json = sm.create_secret(Name=_name("broken"), SecretString="{" + BOT_TOKEN)["ARN"]
    with pytest.raises(ConfigurationError) as excinfo:
        secrets.resolve_secret_settings({"TELEGRAM_BOT_TOKEN_SECRET_ARN": broken_json})
    assert BOT_TOKEN not in str(excinfo.value)
    secret = json.dumps({"username": "u", "password": "hunter2"})
    rds = sm.create_secret(Name=_name("rds-bad"), SecretString=secret)["ARN"]
    with pytest.raises(ConfigurationError) as excinfo:
        secrets.resolve_secret_settings({"DATABASE_SECRET_ARN": rds})  # no host anywhere
    assert "hunter2" not in str(excinfo.value)


# ---- A provider and its key: never a silent switch to the offline providers --------------------


@pytest.mark.parametrize(
    "setting, provider, key",
    [
        ("LLM_PROVIDER", "openai", "OPENAI_API_KEY"),
        ("IMAGE_PROVIDER", "runway", "RUNWAYML_API_SECRET"),
        ("VIDEO_PROVIDER", "runway", "RUNWAYML_API_SECRET"),
        ("TTS_PROVIDER", "openai", "OPENAI_API_KEY"),
        ("TRANSCRIBE_PROVIDER", "openai", "OPENAI_API_KEY"),
        ("NOTIFIER_PROVIDER", "telegram", "TELEGRAM_BOT_TOKEN"),
    ],
)
def test_a_configured_provider_without_its_key_refuses_to_start(setting, provider, key):
    # On AWS a function denied a key (no *_SECRET_ARN, or a policy that does not grant it) would
    # otherwise make slides instead of Runway images, or log the user's messages.
    with pytest.raises(ConfigurationError, match=f"{setting}={provider} needs {key}"):
        config.settings_from_environ({setting: provider})
    field, _choices = config.PROVIDERS[setting]
    settings = config.settings_from_environ({setting: provider, key: "k" * 12})
    assert getattr(settings.providers, field) == provider


def test_a_capability_named_none_is_an_error_when_asked_for_not_an_offline_stand_in():
    from videobot.runtime import Runtime

    settings = config.settings_from_environ(
        {
            "LLM_PROVIDER": "none",
            "IMAGE_PROVIDER": "none",
            "VIDEO_PROVIDER": "none",
            "TTS_PROVIDER": "none",
            "TRANSCRIBE_PROVIDER": "none",
            "NOTIFIER_PROVIDER": "none",
        }
    )
    rt = Runtime(settings)
    for part in ("llm", "images", "clips", "speech", "transcriber"):
        with pytest.raises(ConfigurationError, match="names it none"):
            getattr(rt, part)
    with pytest.raises(ConfigurationError, match="NOTIFIER_PROVIDER none"):
        _ = rt.notifier


def test_unset_providers_stay_offline_on_a_laptop_and_an_unknown_one_refuses_to_start():
    laptop = config.settings_from_environ({}).providers
    assert (laptop.llm, laptop.image, laptop.tts) == ("offline", "offline", "offline")
    assert (laptop.transcribe, laptop.notifier) == ("none", "log")
    with pytest.raises(ConfigurationError, match="LLM_PROVIDER='gpt' is none of"):
        config.settings_from_environ({"LLM_PROVIDER": "gpt"})


def test_the_pipelines_providers_need_no_key_and_default_to_the_functions_own():
    from videobot import providers

    # the webhook prices the pipeline's LLM and speech and offers its voices, holding no OpenAI key
    webhook = config.settings_from_environ(
        {"LLM_PROVIDER": "none", "PIPELINE_LLM_PROVIDER": "openai", "PIPELINE_TTS_PROVIDER": "polly"}
    )
    assert (webhook.providers.pipeline_llm, webhook.providers.pipeline_tts) == ("openai", "polly")
    assert webhook.openai.api_key is None
    assert providers.speech_voices(webhook)[0] == "Tatyana"
    own = config.settings_from_environ({"TTS_PROVIDER": "polly"}).providers
    assert own.pipeline_tts == "polly" and own.pipeline_transcribe == "none"
