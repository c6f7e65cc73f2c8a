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


def _app_secret(sm, **overrides) -> str:
    body = {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "OPENAI_API_KEY": OPENAI_KEY,
        "RUNWAYML_API_SECRET": RUNWAY_KEY,
        "DATABASE_URL": "",
    }
    body.update(overrides)
    return sm.create_secret(Name=_name("app"), SecretString=json.dumps(body))["ARN"]


def test_settings_come_from_the_app_secret_and_the_webhook_secret(sm):
    app_arn = _app_secret(sm)
    hook_arn = sm.create_secret(Name=_name("hook"), SecretString=WEBHOOK_SECRET)["ARN"]
    env = {
        "APP_SECRETS_ARN": app_arn,
        "TELEGRAM_WEBHOOK_SECRET_SECRET_ARN": hook_arn,
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
    assert settings.database.url == "postgresql://u:p@h/db"  # empty DATABASE_URL in the secret is unset
    assert OPENAI_KEY not in repr(settings) and RUNWAY_KEY not in repr(settings)


def test_plain_environment_wins_and_is_not_fetched(sm):
    app_arn = _app_secret(sm)
    env = {
        "APP_SECRETS_ARN": app_arn,
        "OPENAI_API_KEY": "sk-local",
        "TELEGRAM_WEBHOOK_SECRET": "local-secret",
        "TELEGRAM_WEBHOOK_SECRET_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone",
    }
    resolved = secrets.resolve_secret_settings(env)  # the missing ARN is never asked for
    assert "TELEGRAM_WEBHOOK_SECRET" not in resolved
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


def test_an_external_database_url_in_the_app_secret_wins_over_the_rds_secret(sm):
    app_arn = _app_secret(sm, DATABASE_URL="postgresql://ext:pw@neon.example/db?sslmode=require")
    env = {"APP_SECRETS_ARN": app_arn, "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:unused"}
    assert config.settings_from_environ(env).database.url == "postgresql://ext:pw@neon.example/db?sslmode=require"


def test_secrets_are_cached_for_five_minutes(sm):
    app_arn = _app_secret(sm)
    env = {"APP_SECRETS_ARN": app_arn}
    assert secrets.resolve_secret_settings(env)["OPENAI_API_KEY"] == OPENAI_KEY
    sm.put_secret_value(SecretId=app_arn, SecretString=json.dumps({"OPENAI_API_KEY": "sk-rotated"}))
    assert secrets.resolve_secret_settings(env)["OPENAI_API_KEY"] == OPENAI_KEY  # served from the cache
    parameters.clear_caches()
    assert secrets.resolve_secret_settings(env)["OPENAI_API_KEY"] == "sk-rotated"


def test_errors_name_the_variable_never_a_value(sm):
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
    with pytest.raises(ConfigurationError, match="APP_SECRETS_ARN"):
        secrets.resolve_secret_settings({"APP_SECRETS_ARN": missing})
    not_json = sm.create_secret(Name=_name("plain"), SecretString=BOT_TOKEN)["ARN"]
    with pytest.raises(ConfigurationError) as excinfo:
        secrets.resolve_secret_settings({"APP_SECRETS_ARN": not_json})
    assert BOT_TOKEN not in str(excinfo.value)
    secret = json.dumps({"username": "u", "password": "hunter2"})
    rds = sm.create_secret(Name=_name("rds-bad"), SecretString=secret)["ARN"]
    with pytest.raises(ConfigurationError) as excinfo:
        secrets.resolve_secret_settings({"DATABASE_SECRET_ARN": rds})  # no host anywhere
    assert "hunter2" not in str(excinfo.value)
