"""The settings' shape: grouped by concern, each field under its environment variable's name,
read once, the same names template.yaml and .env.example use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local import template as tpl
from videobot import config
from videobot.config import GROUPS, Settings
from videobot.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]
# What the environment holds besides the settings: secrets named by ARN and the database
# secret's parts (videobot.secrets), and the libraries' own variables (Powertools).
NOT_SETTINGS = re.compile(r"^(\w+_SECRET_ARN|APP_SECRETS_ARN|DATABASE_(HOST|PORT|NAME)|POWERTOOLS_\w+)$")


def _template_names() -> set[str]:
    template = tpl.load_template()
    names = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for res in template["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            names |= set(res["Properties"].get("Environment", {}).get("Variables", {}))
    return names


def test_every_variable_the_template_and_env_example_set_is_a_setting_by_that_name():
    example = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    for name in _template_names() | example:
        assert name in config.setting_names() or NOT_SETTINGS.match(name), name


def test_each_setting_is_in_one_group_under_its_environment_name():
    names = [field.alias for cls in GROUPS.values() for field in cls.model_fields.values()]
    assert len(names) == len(set(names)) == len(config.setting_names())
    assert all(name and name == name.upper() for name in names)
    settings = config.settings_from_environ({"RUNWAY_CONCURRENCY": "5", "MAX_TOPIC_CHARS": "300", "SUBTITLES": "0"})
    assert (settings.runway.concurrency, settings.telegram.max_topic_chars) == (5, 300)
    assert settings.assembly.subtitles is False
    # a test's way: values by their environment names, validated the same way
    assert Settings(RUNWAY_CONCURRENCY=5).runway.concurrency == 5


def test_a_bad_value_is_named_by_its_variable_and_never_echoed():
    with pytest.raises(ConfigurationError) as error:
        config.settings_from_environ({"RUNWAY_CONCURRENCY": "99", "TELEGRAM_ATTEMPTS": "sk-secret-looking"})
    message = str(error.value)
    assert "RUNWAY_CONCURRENCY:" in message and "TELEGRAM_ATTEMPTS:" in message
    assert "sk-secret-looking" not in message


def test_the_providers_follow_the_keys_unless_named():
    assert Settings().providers.llm == "offline" and Settings().providers.image == "offline"
    keyed = Settings(OPENAI_API_KEY="sk", RUNWAYML_API_SECRET="key")
    assert (keyed.providers.llm, keyed.providers.tts, keyed.providers.image, keyed.providers.video) == (
        "openai",
        "openai",
        "runway",
        "runway",
    )
    assert Settings(OPENAI_API_KEY="sk", LLM_PROVIDER="offline").providers.llm == "offline"
    assert keyed.with_values(RUNWAY_CONCURRENCY=4).max_concurrency == 4 and keyed.max_concurrency == 2
