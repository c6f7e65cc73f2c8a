"""CloudFormation custom resource that applies the SQL migrations on every deploy.

The template passes the migrate function's published version as a property, so any code
change (migrations included) sends an Update and the migrations run again; videobot.migrate
applies only what is missing, under an advisory lock, so a re-run is harmless. A failure
answers FAILED, which rolls the deploy back. Delete changes nothing: the data stays.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests

from videobot.observability import logger

_REASON_LIMIT = 1000  # the whole response must stay under 4 KB


def send_response(event: dict, *, status: str, reason: str, physical_id: str, data: dict | None = None) -> None:
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
    )
    # The presigned URL is signed without a content type; send none.
    response = requests.put(event["ResponseURL"], data=body.encode("utf-8"), headers={"content-type": ""}, timeout=30)
    response.raise_for_status()


def handle_migrations(event: dict, context: Any, migrate: Callable[[], list[str]]) -> dict:
    """Run the migrations for Create and Update (`migrate`, which reaches the database only when
    called, so a configuration that fails answers FAILED too), answer CloudFormation, return
    what was sent."""
    request = event.get("RequestType")
    physical_id = event.get("PhysicalResourceId") or f"{event['LogicalResourceId']}-migrations"
    status, reason, data = "SUCCESS", "nothing to do on delete", {}
    if request in ("Create", "Update"):
        try:
            applied = migrate()
            reason = f"applied: {', '.join(applied) or 'nothing new'}"
            data = {"Applied": ",".join(applied)}
            logger.info("migrations applied on deploy", extra={"applied": applied, "request": request})
        except Exception as exc:  # noqa: BLE001 - answer FAILED rather than leaving the stack waiting an hour
            status, reason = "FAILED", f"migrations failed: {type(exc).__name__}: {exc}"
            logger.exception("migrations failed on deploy")
    send_response(event, status=status, reason=reason, physical_id=physical_id, data=data)
    return {"Status": status, "Reason": reason, "PhysicalResourceId": physical_id, "Data": data}
