"""Shared fixtures: one embedded PostgreSQL for the session (or TEST_DATABASE_URL), migrated
from the same SQL files as production, a media folder per session, and the runtime each test
gives the code, built from settings (never from the process environment)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from local.environment import LocalRuntime
from tests.helpers import CONFIGURING, Setup
from videobot.data.db import Database

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
    server.cleanup()


@pytest.fixture(scope="session")
def db(database_url: str) -> Database:
    """The session's database (rt.db of every runtime the tests build)."""
    database = Database(database_url)
    yield database
    database.close()


# Libraries read their own variables from the process environment (boto3 its region and keys,
# Powertools its log level and metrics); the bot's settings never do in the tests.
LIBRARY_ENVIRONMENT = {
    "POWERTOOLS_METRICS_DISABLED": "1",  # no EMF lines in the test output
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


@pytest.fixture(scope="session", autouse=True)
def environment(db: Database, tmp_path_factory: pytest.TempPathFactory):
    """The session's folder; the libraries' environment; the schema migrated."""
    work = tmp_path_factory.mktemp("videobot")
    os.environ.update(LIBRARY_ENVIRONMENT)
    from videobot.migrate import migrate

    migrate(db)
    yield work


@pytest.fixture(scope="session")
def settings_env(database_url: str, environment) -> dict[str, str]:
    """The settings every test's runtime starts from, by their environment names."""
    return {
        "DATABASE_URL": database_url,
        "MEDIA_DIR": str(environment / "media"),
        "OFFLINE_SPOOL_DIR": str(environment / "offline-tasks"),
        "POLL_INTERVAL_SECONDS": "0",
        "IMAGE_FIRST_POLL_SECONDS": "0",  # the fakes answer at once: no vendor-sized first wait
        "CLIP_FIRST_POLL_SECONDS": "0",
        # a tap's answer carries its outcome (tests/unit/test_reliability_telegram.py runs 0 s too)
        "CALLBACK_ANSWER_SECONDS": "10",
        # bot-wide budget off: the session's jobs are many (test_reliability_telegram sets one)
        "MAX_USD_PER_DAY": "0",
        # Runway's daily cap off too (the fake's jobs are many; test_spend_ledger sets one)
        "RUNWAY_DAILY_GENERATIONS": "0",
    }


@pytest.fixture
def setup() -> Setup:
    """What this test's fixtures configure before its runtime is built (see `rt`)."""
    return Setup()


@pytest.fixture
def rt(request: pytest.FixtureRequest, setup: Setup, settings_env: dict[str, str], db: Database):
    """The runtime this test gives the code: the session's settings and database, with what the
    test's configuring fixtures (CONFIGURING: the fakes' settings, a part replaced) set up first.
    A test of the local pipeline gets the pipeline's runtime, which its handlers are given."""
    for name in CONFIGURING:
        if name in request.fixturenames:
            request.getfixturevalue(name)
    if "pipeline" not in request.fixturenames:
        setup.rt = LocalRuntime({**settings_env, **setup.env}, db=db, parts=setup.parts)
        yield setup.rt
        return
    pipeline = request.getfixturevalue("pipeline")
    setup.rt = pipeline.runtime
    if setup.env or setup.parts:
        setup.rt = setup.rt.with_env(**setup.env).with_parts(**setup.parts)
    with pipeline.using(setup.rt):
        yield setup.rt
