"""Pytest fixtures for the vendor fakes (registered in tests/conftest.py). `*_env` fixtures
point the test's runtime's real clients at a fake through the same settings production uses;
`rt.with_env(**openai_vars(fake))` does the same for a runtime in the middle of a test."""

from __future__ import annotations

import pytest

from tests.fakes import openai_api, polly, runway_api


@pytest.fixture(scope="session", autouse=True)
def polly_engines():
    """moto's Polly refuses an engine its voice does not support, as Polly does, in every test."""
    with polly.engines_enforced():
        yield


@pytest.fixture
def fake_openai():
    server = openai_api.FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_runway():
    server = runway_api.FakeRunway().start()
    yield server
    server.stop()


def openai_vars(fake: openai_api.FakeOpenAI) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": openai_api.API_KEY,
        "OPENAI_BASE_URL": f"{fake.url}/v1",
        "OPENAI_WEBSOCKET_BASE_URL": fake.realtime.url,
    }


def runway_vars(fake: runway_api.FakeRunway) -> dict[str, str]:
    return {"RUNWAYML_API_SECRET": runway_api.API_KEY, "RUNWAYML_BASE_URL": fake.url}


@pytest.fixture
def openai_env(fake_openai, setup):
    """The test's runtime with OPENAI_* pointing at the fake (the LLM and TTS providers become openai)."""
    setup.env.update(openai_vars(fake_openai))
    return fake_openai


@pytest.fixture
def runway_env(fake_runway, setup):
    """The test's runtime with RUNWAYML_* pointing at the fake (image and video providers become runway)."""
    setup.env.update(runway_vars(fake_runway))
    return fake_runway
