"""Versioned SQL migrations, applied once each, in order, under an advisory lock.

Run by `make migrate`, by the local runner on start, and on AWS after every deploy.
"""

from __future__ import annotations

import time
from importlib import resources

import psycopg2.errors

from videobot.data.db import Database
from videobot.observability import logger

_LOCK_ID = 7_301_202_611  # any constant: serialises concurrent migrators


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("videobot") / "migrations"
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in files]


def _bound_by(cur, deadline: float | None, version: str) -> None:
    """Cut the next statements off at `deadline` (time.monotonic()): PostgreSQL's lock_timeout
    (the advisory lock's wait included) and statement_timeout, from the time left."""
    if deadline is None:
        return
    left_ms = int((deadline - time.monotonic()) * 1000)
    if left_ms <= 0:
        raise TimeoutError(f"no time left for {version}")
    cur.execute(
        "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
        (f"{left_ms}ms", f"{left_ms}ms"),
    )


def _apply(conn, cur, deadline: float | None, applied: list[str]) -> None:
    _bound_by(cur, deadline, "the migrations' lock")
    cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
    try:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS public.video_bot_schema_migrations ("
            " version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        conn.commit()
        cur.execute("SELECT version FROM public.video_bot_schema_migrations")
        done = {row[0] for row in cur.fetchall()}
        for version, sql in migration_files():
            if version in done:
                continue
            _bound_by(cur, deadline, version)
            cur.execute(sql)
            cur.execute("INSERT INTO public.video_bot_schema_migrations (version) VALUES (%s)", (version,))
            conn.commit()
            applied.append(version)
            logger.info("migration applied", extra={"version": version})
    finally:
        conn.rollback()
        if deadline is not None:  # the pooled connection goes back without the limits
            cur.execute("RESET lock_timeout; RESET statement_timeout")
        cur.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
        conn.commit()


def migrate(db: Database, deadline: float | None = None) -> list[str]:
    """Apply the migrations not yet applied; return their versions. With a `deadline`
    (time.monotonic()), a wait or a statement that would outlast it fails instead."""
    applied: list[str] = []
    with db.connect() as conn, conn.cursor() as cur:
        try:
            _apply(conn, cur, deadline, applied)
        except (psycopg2.errors.QueryCanceled, psycopg2.errors.LockNotAvailable) as exc:
            # PostgreSQL cut a wait or a statement off at the deadline: not a lost connection
            raise TimeoutError(
                f"the migrations ran out of time after {applied or 'none'}: {str(exc).strip()}"
            ) from None
    return applied
