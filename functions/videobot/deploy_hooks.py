"""CloudFormation custom resource that applies the SQL migrations on every deploy.

The template passes the migrate function's published version as a property, so any code
change (migrations included) sends an Update and the migrations run again; videobot.migrate
applies only what is missing, under an advisory lock, so a re-run is harmless. A failure
answers FAILED, which rolls the deploy back. Delete changes nothing (the data stays) and
always answers SUCCESS, so a stack can always be deleted or rolled back.

CloudFormation waits for the answer until the resource's ServiceTimeout, so this module
answers whatever happens:
- it imports only the standard library when it is loaded; everything else (PostgreSQL, the
  settings and their secrets, Powertools) is imported inside the guarded call, so an import
  error answers FAILED too;
- the migrations get the Lambda's remaining time less ANSWER_RESERVE_SECONDS as their deadline:
  every statement, the wait for the advisory lock included, is cut off by PostgreSQL's
  lock_timeout and statement_timeout before the Lambda would be killed unanswered.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable
from typing import Any

_REASON_LIMIT = 1000  # the whole response must stay under 4 KB
# Kept from the Lambda's remaining time for answering CloudFormation (the PUT's tries).
ANSWER_RESERVE_SECONDS = 20.0
_PUT_TIMEOUT_SECONDS = 5.0
_PUT_ATTEMPTS = 3


def _logger():
    """Powertools' logger when it imports, else the standard one: logging never stops the answer."""
    try:
        from videobot.observability import logger

        return logger
    except Exception:  # noqa: BLE001
        return logging.getLogger(__name__)


def send_response(event: dict, *, status: str, reason: str, physical_id: str, data: dict | None = None) -> None:
    """PUT the answer to CloudFormation's presigned URL (a few short tries)."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:_REASON_LIMIT],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data or {},
        }
    ).encode("utf-8")
    # The presigned URL is signed without a content type: send an empty one (urllib would
    # otherwise add application/x-www-form-urlencoded).
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})
    for attempt in range(1, _PUT_ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=_PUT_TIMEOUT_SECONDS) as response:
                response.read()
            return
        except OSError:  # URLError, HTTPError, timeouts
            if attempt == _PUT_ATTEMPTS:
                raise
            time.sleep(attempt)


def migration_deadline(context: Any) -> float | None:
    """time.monotonic() by which the migrations must be done: the Lambda's remaining time less
    the answer's reserve. None without a Lambda context (nothing bounds a local run)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return time.monotonic() + remaining() / 1000 - ANSWER_RESERVE_SECONDS


def handle_migrations(event: dict, context: Any, migrate: Callable[..., list[str]]) -> dict:
    """Run the migrations for Create and Update, answer CloudFormation, return what was sent.
    `migrate(deadline=...)` imports what it needs and reaches the database only when called, inside
    the guard: an import error or a configuration that fails answers FAILED too."""
    request = event.get("RequestType")
    physical_id = event.get("PhysicalResourceId") or f"{event.get('LogicalResourceId')}-migrations"
    status, reason, data = "SUCCESS", "nothing to do on delete", {}
    if request != "Delete":
        try:
            if request not in ("Create", "Update"):
                raise ValueError(f"unknown RequestType {request!r}")
            applied = migrate(deadline=migration_deadline(context))
            reason = f"applied: {', '.join(applied) or 'nothing new'}"
            data = {"Applied": ",".join(applied)}
            _logger().info("migrations applied on deploy", extra={"applied": applied, "request": request})
        except BaseException as exc:  # noqa: BLE001 - an import error too: answer rather than leave the stack waiting
            status, reason = "FAILED", f"migrations failed: {type(exc).__name__}: {exc}"
            _logger().exception("migrations failed on deploy")
    send_response(event, status=status, reason=reason, physical_id=physical_id, data=data)
    return {"Status": status, "Reason": reason, "PhysicalResourceId": physical_id, "Data": data}
