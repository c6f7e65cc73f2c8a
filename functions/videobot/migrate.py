"""Versioned SQL migrations, applied once each, in order, under an advisory lock.

Run by `make migrate`, by the local runner on start, and on AWS after every deploy.
"""

from __future__ import annotations

from importlib import resources

from videobot.data.db import Database
from videobot.observability import logger

_LOCK_ID = 7_301_202_611  # any constant: serialises concurrent migrators


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("videobot") / "migrations"
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in files]


def migrate(db: Database) -> list[str]:
    """Apply the migrations not yet applied; return their versions."""
    applied: list[str] = []
    with db.connect() as conn, conn.cursor() as cur:
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
                cur.execute(sql)
                cur.execute("INSERT INTO public.video_bot_schema_migrations (version) VALUES (%s)", (version,))
                conn.commit()
                applied.append(version)
                logger.info("migration applied", extra={"version": version})
        finally:
            conn.rollback()
            cur.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
            conn.commit()
    return applied
