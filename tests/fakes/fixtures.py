"""Pytest fixtures for the vendor fakes (registered in tests/conftest.py). `*_env` fixtures
point the real clients at a fake through the same variables production uses."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

from tests.fakes import openai_api, polly, runway_api


def _reset() -> None:
    from videobot import runtime

    runtime.reset()


@contextmanager
def vendor_env(values: dict[str, str]):
    """Set variables, re-read settings and providers; restore both afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        _reset()  # may refuse the configuration: the environment is restored all the same
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _reset()


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
def openai_env(fake_openai):
    """Settings with OPENAI_* pointing at the fake (the LLM and TTS providers become openai)."""
    with vendor_env(openai_vars(fake_openai)):
        yield fake_openai


@pytest.fixture
def runway_env(fake_runway):
    """Settings with RUNWAYML_* pointing at the fake (image and video providers become runway)."""
    with vendor_env(runway_vars(fake_runway)):
        yield fake_runway
