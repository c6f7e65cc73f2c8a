"""Shared fixtures: one embedded PostgreSQL for the session (or TEST_DATABASE_URL), migrated
from the same SQL files as production, and a media folder per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from videobot import runtime

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.fakes.fixtures"]  # vendor fakes: fake_openai, fake_runway, *_env


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    import pgserver

    pgdata = ROOT / ".local" / "test-pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(pgdata))
    yield server.get_uri()
    from videobot.data import db

    db.close_pools()
    server.cleanup()


@pytest.fixture(scope="session", autouse=True)
def environment(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("videobot")
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "MEDIA_DIR": str(work / "media"),
            "OFFLINE_SPOOL_DIR": str(work / "offline-tasks"),
            "POLL_INTERVAL_SECONDS": "0",
            "IMAGE_FIRST_POLL_SECONDS": "0",  # the fakes answer at once: no vendor-sized first wait
            "CLIP_FIRST_POLL_SECONDS": "0",
            # a tap's answer carries its outcome (tests/unit/test_reliability_telegram.py runs 0 s too)
            "CALLBACK_ANSWER_SECONDS": "10",
            # bot-wide budget off: the session's jobs are many (test_reliability_telegram sets one)
            "MAX_USD_PER_DAY": "0",
            "POWERTOOLS_METRICS_DISABLED": "1",  # no EMF lines in the test output
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
    )
    for key in (
        "OPENAI_API_KEY",
        "RUNWAYML_API_SECRET",
        "MEDIA_BUCKET",
        "STATE_MACHINE_ARN",
        "LLM_PROVIDER",
        "IMAGE_PROVIDER",
        "VIDEO_PROVIDER",
        "TTS_PROVIDER",
        "TRANSCRIBE_PROVIDER",
        "NOTIFIER_PROVIDER",
        "PIPELINE_LLM_PROVIDER",
        "PIPELINE_TTS_PROVIDER",
        "PIPELINE_TRANSCRIBE_PROVIDER",
        "TELEGRAM_BOT_TOKEN",
    ):
        os.environ.pop(key, None)
    runtime.reset()
    from videobot.migrate import migrate

    migrate()
    yield work


@pytest.fixture
def reset_caches():
    """For tests that change the environment: settings and providers are read again."""
    runtime.reset()
    yield
    runtime.reset()
