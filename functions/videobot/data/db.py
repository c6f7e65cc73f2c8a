"""PostgreSQL access: one small thread-safe pool per process, a transaction per `connect()`.

On Lambda a warm container keeps its connection; in the local runner many handler threads
share the pool. A broken connection is discarded and reported as DatabaseUnavailable, which
the state machine retries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extras
import psycopg2.pool
from psycopg2.extras import Json

from videobot.config import get_settings
from videobot.errors import ConfigurationError, DatabaseUnavailable

KEEP_IDLE = 4  # connections kept open between calls (a warm Lambda needs one)
_pools: dict[str, psycopg2.pool.ThreadedConnectionPool] = {}
_pools_lock = threading.Lock()


def database_url() -> str:
    url = get_settings().database_url
    if not url:
        raise ConfigurationError("DATABASE_URL is not set")
    return url


def _pool(url: str) -> psycopg2.pool.ThreadedConnectionPool:
    with _pools_lock:
        pool = _pools.get(url)
        if pool is None:
            pool = psycopg2.pool.ThreadedConnectionPool(
                0, 32, dsn=url, connect_timeout=get_settings().database_connect_timeout_seconds
            )
            # psycopg2 closes a returned connection once `minconn` are idle, and its
            # constructor opens `minconn` at once; so open none eagerly, then keep a few.
            pool.minconn = KEEP_IDLE
            _pools[url] = pool
        return pool


def close_pools() -> None:
    with _pools_lock:
        for pool in _pools.values():
            pool.closeall()
        _pools.clear()


@contextmanager
def connect(url: str | None = None) -> Iterator[psycopg2.extensions.connection]:
    """A connection inside one transaction: committed on success, rolled back on error."""
    pool = _pool(url or database_url())
    try:
        conn = pool.getconn()
    except psycopg2.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {exc.__class__.__name__}") from None
    broken = False
    try:
        yield conn
        conn.commit()
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        broken = True
        raise DatabaseUnavailable(f"PostgreSQL connection lost: {exc.__class__.__name__}") from None
    except BaseException:
        if not conn.closed:
            conn.rollback()
        raise
    finally:
        pool.putconn(conn, close=broken or bool(conn.closed))


def query(sql: str, params: tuple | dict = ()) -> list[dict]:
    with connect() as conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(sql, params)
        return [dict(r) for r in cur.fetchall()] if cur.description else []


def query_one(sql: str, params: tuple | dict = ()) -> dict | None:
    rows = query(sql, params)
    return rows[0] if rows else None


def execute(sql: str, params: tuple | dict = ()) -> int:
    with connect() as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


NOW = object()  # in an update's fields: set the column to the current UTC time


def assignments(fields: dict[str, Any], allowed: set[str]) -> tuple[str, list]:
    """`SET` clauses for an update of the `allowed` columns (and updated_at)."""
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"unknown columns: {sorted(unknown)}")
    parts, params = [], []
    for name, value in fields.items():
        if value is NOW:
            parts.append(f"{name} = (now() AT TIME ZONE 'utc')")
        else:
            parts.append(f"{name} = %s")
            params.append(Json(value) if isinstance(value, (dict, list)) else value)
    parts.append("updated_at = (now() AT TIME ZONE 'utc')")
    return ", ".join(parts), params
