"""The connection checkout (Database._checkout) on a real pool of one connection, held by
another thread: waiting for a connection is not a failure; a pool still full after the bound
(DATABASE_CHECKOUT_TIMEOUT_SECONDS) is DatabaseUnavailable, which the state machine retries and
the webhook answers 5xx for; psycopg2's PoolError never leaves the data layer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from videobot.data.db import Database
from videobot.errors import DatabaseUnavailable


@contextmanager
def held(db: Database, seconds: float | None = None) -> Iterator[threading.Event]:
    """Another thread holds one of `db`'s connections: for `seconds` (the block's end waits for
    them), or else until the block ends (or the returned event is set)."""
    taken, release = threading.Event(), threading.Event()

    def hold():
        with db.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
            taken.set()
            release.wait(seconds)

    holder = threading.Thread(target=hold, name="holder", daemon=True)
    holder.start()
    assert taken.wait(10)
    try:
        yield release
    finally:
        if seconds is None:
            release.set()
        holder.join(10 + (seconds or 0))


@pytest.fixture
def single(database_url) -> Iterator[Database]:
    database = Database(database_url, max_connections=1, checkout_timeout_seconds=10)
    yield database
    database.close()


def test_a_caller_waits_for_the_connection_another_thread_returns_within_the_bound(single):
    with held(single, seconds=0.3):
        started = time.monotonic()
        assert single.query_one("SELECT 7 AS n") == {"n": 7}  # today: PoolError at once
        waited = time.monotonic() - started
    assert waited >= 0.25  # it had the connection only once the holder gave it back


def test_a_pool_still_full_after_the_bound_is_database_unavailable_and_nothing_leaks(database_url):
    db = Database(database_url, max_connections=1, checkout_timeout_seconds=0.3)
    try:
        with held(db):
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable, match=r"no free PostgreSQL connection within 0\.3 s"):
                db.query("SELECT 1")
            assert time.monotonic() - started >= 0.3
        # the holder gave it back: the one connection serves again, many times over
        for n in range(3):
            assert db.query_one("SELECT %s AS n", (n,)) == {"n": n}
    finally:
        db.close()


def test_a_connection_that_cannot_be_opened_gives_its_place_back(database_url):
    unreachable = database_url.replace("host=", "host=nonexistent-") if "host=" in database_url else None
    db = Database(
        unreachable or "postgresql://nobody@127.0.0.1:9/none",
        connect_timeout_seconds=1,
        max_connections=1,
        checkout_timeout_seconds=0.2,
    )
    for _ in range(3):  # each attempt fails to connect, never waits for a place a failure kept
        with pytest.raises(DatabaseUnavailable, match="cannot connect to PostgreSQL"):
            db.query("SELECT 1")


def test_a_failed_transaction_and_a_lost_connection_give_their_place_back(single):
    with pytest.raises(ValueError), single.connect():
        raise ValueError("the caller's own error: rolled back")
    with pytest.raises(DatabaseUnavailable, match="connection lost"), single.connect() as conn:
        conn.close()  # as a failover would
        conn.cursor().execute("SELECT 1")
    assert single.query_one("SELECT 1 AS one") == {"one": 1}


def test_closing_the_pool_while_a_connection_is_out_is_database_unavailable_and_leaks_nothing(single):
    with pytest.raises(DatabaseUnavailable), single.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        single.close()  # e.g. the local runner stopping: closes the connection, not committed
    assert single.query_one("SELECT 2 AS two") == {"two": 2}  # a new pool, the place given back
