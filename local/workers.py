"""Each function in warm worker processes, pooled per function, as Lambda gives each concurrent
invocation its own sandbox: a process whose environment is the function's alone (local/functions.py),
which builds its runtime from that environment on its first invocation (videobot.entry, with its
secrets read from Secrets Manager), and keeps its imports and module state to itself.

- An invocation takes an idle worker of its function, or starts one (forked from a server that has
  imported the handlers' libraries once, so a cold start costs milliseconds, not seconds).
- A worker still running at the function's Timeout is killed, as Lambda ends a sandbox, and the
  invocation ends Sandbox.Timedout.
- AWS is moto, reached over HTTP (a moto server in the runner's process, sharing its state);
  Lambda is the runner's endpoint. Every AWS call a worker makes is checked against its function's
  role (local/iam.py); a denied one fails there with AccessDenied and is reported to the runner.

The runner keeps in-process handlers for the tests that replace a part of a handler's runtime (a
vendor fake's failure, a clock): those objects cannot cross into a process."""

from __future__ import annotations

import io
import multiprocessing
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from local.iam import Checked, Principal
from local.lambda_endpoint import PRELOAD as ENDPOINT_PRELOAD

# The endpoint answers Sandbox.Timedout at the Timeout; the worker is killed just after.
KILL_GRACE_SECONDS = 1.0
# Imported once by the fork server, so each worker starts with them loaded (copy-on-write): the
# SDKs the handlers import (local/lambda_endpoint.py's PRELOAD), and the modules every worker
# runs. None of them reads the environment when imported but Powertools' logger, whose service
# name and level are the same in every function's environment.
PRELOAD = [
    *ENDPOINT_PRELOAD,
    "psycopg2",
    "aws_lambda_powertools.utilities.parameters",
    "videobot.entry",
    "videobot.runtime",
    "videobot.config",
    "local.iam",
    "local.lambda_endpoint",
]


class FunctionError(Exception):
    """A handler's exception, re-raised in the runner under the handler's error type."""


def _error_class(name: str) -> type[Exception]:
    return type(name, (FunctionError,), {})


def _serve(
    conn: Connection,
    function: str,
    handler_path: str,
    environ: dict[str, str],
    principal: Principal,
    log_path: str | None = None,
) -> None:
    """A worker: the function's environment, its role's check, its handler, one invocation at a
    time; its stdout and stderr (its log lines) appended to `log_path` when given."""
    if log_path:
        _write_output_to(log_path)
    os.environ.clear()
    os.environ.update(environ)
    _read_at_import_again()
    from local.iam import PolicyCheck
    from local.lambda_endpoint import LambdaContext, import_handler

    check = PolicyCheck(default=principal).install()
    try:
        handler: Callable | None = import_handler(handler_path)
        init_error = None
    except Exception as exc:  # noqa: BLE001 - Lambda reports an import error on every invocation
        handler, init_error = None, exc
    while True:
        message = conn.recv()
        if message is None:
            return
        event, timeout = message
        seen = len(check.checked)
        try:
            if handler is None:
                raise init_error  # type: ignore[misc]
            reply: tuple[str, Any] = ("ok", handler(event, LambdaContext(function, timeout)))
        except Exception as exc:  # noqa: BLE001 - reported as Lambda reports an unhandled error
            reply = ("error", (type(exc).__name__, str(exc), traceback.format_exception(exc)[-3:]))
        conn.send((reply, [c for c in check.checked[seen:] if not c.decision.allowed]))


def _read_at_import_again() -> None:
    """The fork server imported PRELOAD with the runner's environment; a cold start on Lambda
    imports them with the function's own. What they read from the environment at import is read
    again from the function's: the Powertools Logger's level (POWERTOOLS_LOG_LEVEL, else
    LOG_LEVEL, else INFO), which otherwise stayed whatever the process that started the fork
    server had."""
    observability = sys.modules.get("videobot.observability")
    if observability is not None:
        observability.logger.setLevel(None)


def _write_output_to(path: str) -> None:
    """Point the process's stdout and stderr at `path`, appended to (as Lambda sends a function's
    output to its log stream, not to a terminal): a worker is forked from the fork server, whose
    output is wherever it was started, such as the terminal of `make demo`."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    for stream, target in ((sys.stdout, 1), (sys.stderr, 2)):
        stream.flush()
        os.dup2(fd, target)
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)  # a line at a time, as each is written
    os.close(fd)


@dataclass
class _Worker:
    process: Any  # multiprocessing's Process
    conn: Connection


class FunctionPool:
    """The warm workers of one function. `__call__(event, context)` is a handler for the endpoint."""

    def __init__(
        self,
        function: str,
        handler_path: str,
        environ: Mapping[str, str],
        principal: Principal,
        on_denied: Callable[[list[Checked]], None] | None = None,
        log_path: str | os.PathLike | None = None,
    ):
        self.function, self.handler_path = function, handler_path
        self.environ, self.principal = dict(environ), principal
        self.on_denied = on_denied
        self.log_path = os.fspath(log_path) if log_path else None  # the workers' output, appended
        self.idle: list[_Worker] = []
        self.started = 0  # cold starts
        self._lock = threading.Lock()

    def _start(self) -> _Worker:
        ctx = multiprocessing.get_context("forkserver")
        parent, child = ctx.Pipe()
        process = ctx.Process(
            target=_serve,
            args=(child, self.function, self.handler_path, self.environ, self.principal, self.log_path),
            name=f"lambda-{self.function}",
            daemon=True,
        )
        process.start()
        child.close()
        self.started += 1
        return _Worker(process, parent)

    def __call__(self, event: dict, context: Any) -> Any:
        with self._lock:
            worker = self.idle.pop() if self.idle else None
        if worker is None:
            worker = self._start()
        timeout = context.get_remaining_time_in_millis() / 1000 if context else 900.0
        worker.conn.send((event, timeout))
        if not worker.conn.poll(timeout + KILL_GRACE_SECONDS):
            worker.process.kill()  # Lambda ends the sandbox at the function's Timeout
            worker.process.join(5)
            message = f"Task timed out after {timeout:.2f} seconds"
            raise _error_class("Sandbox.Timedout")(message)  # Lambda's error, whoever sees it first
        (status, value), denied = worker.conn.recv()
        with self._lock:
            self.idle.append(worker)
        if denied and self.on_denied:
            self.on_denied(denied)
        if status == "error":
            error_type, message, _ = value
            raise _error_class(error_type)(message)
        return value

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self.idle]

    def close(self) -> None:
        with self._lock:
            workers, self.idle = self.idle, []
        for worker in workers:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()


def start_fork_server() -> None:
    """Preload what every worker imports, once (the fork server starts on the first worker)."""
    multiprocessing.get_context("forkserver")
    multiprocessing.set_forkserver_preload(PRELOAD)  # one not installed is skipped
