"""One PostgreSQL server per test run, one fresh database per pytest process.

The migrations are applied once, to a template database; each pytest process (the run itself,
or each pytest-xdist worker) gets its own copy, made with `CREATE DATABASE ... TEMPLATE`
(a file copy: faster than migrating, and every worker starts from the same empty schema).
The template is rebuilt when the migration files change: its comment holds their hash.

A process's database is named after its pid and dropped when the process ends; one left by
a process that died (a killed run) is dropped by the next run on the same server."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
from psycopg2 import sql

from videobot.data.db import Database
from videobot.migrate import migrate, migration_files

TEMPLATE = "videobot_test_template"
PREFIX = "videobot_test_pid_"


def with_database(url: str, name: str) -> str:
    """The same server's URL (postgresql://...), naming another database."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()


@contextmanager
def _admin(url: str) -> Iterator[psycopg2.extensions.cursor]:
    conn = psycopg2.connect(url)
    conn.autocommit = True  # CREATE and DROP DATABASE run outside a transaction
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


@contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    """One process at a time builds the template or copies it (a copy needs the template idle)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def migrations_hash() -> str:
    digest = hashlib.sha256()
    for version, text in migration_files():
        digest.update(version.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop(cur, name: str) -> None:
    cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _ensure_template(cur, server_url: str) -> None:
    wanted = migrations_hash()
    cur.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (TEMPLATE,))
    row = cur.fetchone()
    if row and row[0] == wanted:
        return
    _drop(cur, TEMPLATE)
    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    template = Database(with_database(server_url, TEMPLATE))
    try:
        migrate(template)
    finally:
        template.close()  # a template being copied must have no session open
    cur.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(TEMPLATE), sql.Literal(wanted)))


# The embedded server holds nothing but test data: it need not survive a power cut, so it
# skips the disk flushes that make each commit wait (on a busy machine, tens of ms each).
NO_FLUSH = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def create_process_database(server_url: str, lock_file: Path, local_server: bool) -> str:
    """A fresh copy of the migrated template for this process; returns its URL."""
    name = f"{PREFIX}{os.getpid()}"
    with _locked(lock_file), _admin(server_url) as cur:
        if local_server:
            for setting, value in NO_FLUSH.items():
                cur.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(setting), sql.Literal(value)))
            cur.execute("SELECT pg_reload_conf()")
            # the pids are this machine's: drop what dead runs left behind
            cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",))
            for (left,) in cur.fetchall():
                pid = left.removeprefix(PREFIX)
                if pid.isdigit() and not _pid_alive(int(pid)):
                    _drop(cur, left)
        _ensure_template(cur, server_url)
        _drop(cur, name)
        cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(TEMPLATE)))
        # on any server, this database's commits do not wait for the disk (a crash may lose
        # the last few, which no test needs)
        cur.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))
    return with_database(server_url, name)


def drop_process_database(server_url: str) -> None:
    with _admin(server_url) as cur:
        _drop(cur, f"{PREFIX}{os.getpid()}")
