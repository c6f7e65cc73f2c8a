"""Shared fixtures: one embedded PostgreSQL for the run (or TEST_DATABASE_URL's server), a
database of its own for each pytest process (each xdist worker), migrated from the same SQL
files as production, a media folder per process, renders made once a run, and the runtime
each test gives the code, built from settings (never from the process environment)."""

from __future__ import annotations

import functools
import gc
import os
from pathlib import Path

import pytest

from local.environment import LocalRuntime
from tests import databases, render_cache
from tests.helpers import CONFIGURING, Setup
from videobot import media
from videobot.data.db import Database
from videobot.providers import offline

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.fakes.fixtures"]  # vendor fakes: fake_openai, fake_runway, *_env


@pytest.fixture(scope="session")
def database_url() -> str:
    """This process's own database (tests/databases.py), on TEST_DATABASE_URL's server or on
    the embedded PostgreSQL that every process of the run shares."""
    server_url, server = os.environ.get("TEST_DATABASE_URL"), None
    if not server_url:
        import pgserver

        pgdata = ROOT / ".local" / "test-pgdata"
        pgdata.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(str(pgdata))  # started by the first process, stopped by the last
        server_url = server.get_uri()
    url = databases.create_process_database(
        server_url, ROOT / ".local" / "test-databases.lock", local_server=server is not None
    )
    yield url
    databases.drop_process_database(server_url)  # FORCE: connections some runtime still holds are ended
    if server is not None:
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


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This run's temporary folder, the same for every pytest-xdist worker (each worker's own
    base folder sits inside it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


# The longest unit files (their wall time in a parallel run: docs/benchmarks.md), longest first:
# pytest-xdist's `--dist loadfile` gives the workers whole files in the order collected, and one
# of these begun last kept one worker busy while the others had finished. The last two mostly
# wait (retries, deadlines), which the other workers' CPU fills.
LONGEST_UNIT_FILES = (
    "tests/unit/test_narration_fit.py",
    "tests/unit/test_stages.py",
    "tests/unit/test_media.py",
    "tests/unit/test_runway.py",
    "tests/unit/telegram/test_bot.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The integration files first (they are the longest), then the longest unit files, longest
    first, then the rest, each in the order collected (the same in every worker: the sort is
    stable)."""
    longest = {path: rank for rank, path in enumerate(LONGEST_UNIT_FILES, start=1)}

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return 0 if path.startswith("tests/integration/") else longest.get(path, len(longest) + 1)

    items.sort(key=rank)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported (botocore's models, moto, pydantic's schemas: most of the heap)
    lives for the whole run: frozen, the garbage collector stops walking it at every full
    collection (gc.freeze)."""
    gc.collect()
    gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """After the last test: one full collection, while pytest's unraisable-exception hook still
    reports what it finds, then what is left frozen, so that the plugin's five collections at
    exit and the interpreter's own walk only what is made after (about 1.5 s of each worker's
    exit, which the run waited for)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def renders_once(tmp_path_factory: pytest.TempPathFactory):
    """Slides, vendor clips, prepared segments and mastered soundtracks: each distinct one is rendered once a run
    and copied after (tests/render_cache.py). Yields the real functions, as (owner, name, function)."""
    folder = run_folder(tmp_path_factory) / "renders"
    real = [
        (media.FFmpeg, "ken_burns_clip", media.FFmpeg.ken_burns_clip, render_cache.file_render),
        (media.FFmpeg, "prepare_segment", media.FFmpeg.prepare_segment, render_cache.file_render),
        (media.FFmpeg, "master_audio", media.FFmpeg.master_audio, render_cache.file_render),
        (offline, "render_slide", offline.render_slide, render_cache.bytes_render),
    ]
    with pytest.MonkeyPatch.context() as patch:
        for module, name, function, cached in real:
            patch.setattr(module, name, cached(function, folder))
        yield [(module, name, function) for module, name, function, _ in real]


@pytest.fixture(scope="session", autouse=True)
def botocore_data_read_once():
    """One botocore data loader for every botocore session of the run. moto starts each mock
    with a new default session, and each runtime a test builds makes its clients afresh, so each
    session read and decoded botocore's JSON again (endpoints, rule sets, service models: the
    largest share of the unit tests' Python CPU, py-spy). The loader only reads the files it is
    given and memoizes what it decoded, which botocore already shares between the clients of a
    session."""
    import botocore.loaders
    import botocore.session

    one_per_path = functools.cache(botocore.loaders.create_loader)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", one_per_path)
        yield


@pytest.fixture(scope="session", autouse=True)
def powertools_logs_at_warning():
    """What POWERTOOLS_LOG_LEVEL=WARNING (above) means for the session: the Powertools Logger
    read its level when videobot was first imported, by this file, before `environment` set
    it, so every INFO line was built, formatted and captured (about 4% of a run's CPU)."""
    from videobot.observability import logger

    saved = logger.log_level
    logger.setLevel("WARNING")
    yield
    logger.setLevel(saved)


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
        # the allowlist fails closed (empty: nobody); the tests' users are many and random
        "ALLOWED_USER_IDS": "*",
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
