"""PostgreSQL access: a `Database` holds one small thread-safe pool and opens a transaction
per `connect()`. The runtime builds one from the settings (`rt.db`) and every function of the
data layer takes it as its first parameter.

On Lambda a warm container keeps its connection; in the local runner many handler threads
share the pool. A caller waits for a free connection at most `checkout_timeout_seconds`
(DATABASE_CHECKOUT_TIMEOUT_SECONDS): waiting is not a failure, but a pool still full after it
is DatabaseUnavailable, like a broken connection (which is discarded): the state machine
retries both, and the webhook answers 5xx so that Telegram redelivers. psycopg2's own
PoolError never leaves this module.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool
from psycopg2.extras import Json

from videobot.errors import ConfigurationError, DatabaseUnavailable

KEEP_IDLE = 4  # connections kept open between calls (a warm Lambda needs one)
MAX_CONNECTIONS = 32
CHECKOUT_TIMEOUT_SECONDS = 10.0


class Database:
    """The database at `url` (DATABASE_URL): its pool of at most `max_connections`
    (DATABASE_POOL_SIZE) is opened on first use. A connection that cannot be opened within
    `connect_timeout_seconds`, or none free within `checkout_timeout_seconds`, is
    DatabaseUnavailable."""

    def __init__(
        self,
        url: str | None,
        *,
        connect_timeout_seconds: int = 10,
        max_connections: int = MAX_CONNECTIONS,
        checkout_timeout_seconds: float = CHECKOUT_TIMEOUT_SECONDS,
    ):
        self.url = url
        self.connect_timeout_seconds = connect_timeout_seconds
        self.max_connections = max_connections
        self.checkout_timeout_seconds = checkout_timeout_seconds
        self._pool: psycopg2.pool.ThreadedConnectionPool | None = None
        self._lock = threading.Lock()
        # One permit per connection the pool may open: a caller holds one from checkout to
        # return, so psycopg2's pool is never asked for more than it has (its PoolError).
        self._permits = threading.BoundedSemaphore(max_connections)

    def _connections(self) -> psycopg2.pool.ThreadedConnectionPool:
        with self._lock:
            if self._pool is None:
                if not self.url:
                    raise ConfigurationError("DATABASE_URL is not set")
                pool = psycopg2.pool.ThreadedConnectionPool(
                    0, self.max_connections, dsn=self.url, connect_timeout=self.connect_timeout_seconds
                )
                # psycopg2 closes a returned connection once `minconn` are idle, and its
                # constructor opens `minconn` at once; so open none eagerly, then keep a few.
                pool.minconn = min(KEEP_IDLE, self.max_connections)
                self._pool = pool
            return self._pool

    def _checkout(self) -> tuple[psycopg2.pool.ThreadedConnectionPool, psycopg2.extensions.connection]:
        """A connection from the pool (the one place a caller waits for one): within
        `checkout_timeout_seconds` of a free one, else DatabaseUnavailable. Give it back with
        `_checkin`."""
        pool = self._connections()
        if not self._permits.acquire(timeout=self.checkout_timeout_seconds):
            raise DatabaseUnavailable(
                f"no free PostgreSQL connection within {self.checkout_timeout_seconds:g} s "
                f"(all {self.max_connections} of this process in use)"
            )
        try:
            return pool, pool.getconn()
        except (psycopg2.OperationalError, psycopg2.pool.PoolError) as exc:
            self._permits.release()
            raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {exc.__class__.__name__}") from None
        except psycopg2.ProgrammingError:  # "invalid dsn: …", quoting the part (a password) it cannot read
            self._permits.release()
            raise ConfigurationError("DATABASE_URL is not a valid PostgreSQL connection string") from None

    def _checkin(
        self, pool: psycopg2.pool.ThreadedConnectionPool, conn: psycopg2.extensions.connection, *, close: bool
    ):
        try:
            pool.putconn(conn, close=close)
        except psycopg2.pool.PoolError:  # the pool was closed meanwhile (close())
            conn.close()
        finally:
            self._permits.release()

    @contextmanager
    def connect(self) -> Iterator[psycopg2.extensions.connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        pool, conn = self._checkout()
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
            self._checkin(pool, conn, close=broken or bool(conn.closed))

    def query(self, sql: str, params: tuple | dict = ()) -> list[dict]:
        with self.connect() as conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(sql, params)
            return [dict(r) for r in cur.fetchall()] if cur.description else []

    def query_one(self, sql: str, params: tuple | dict = ()) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: tuple | dict = ()) -> int:
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.rowcount

    def close(self) -> None:
        """Close every pooled connection (the pool opens again on the next use)."""
        with self._lock:
            if self._pool is not None:
                self._pool.closeall()
                self._pool = None


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
