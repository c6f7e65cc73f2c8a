"""CloudFormation's side of a custom resource, offline: the request it sends, the answer it waits
for, and how long it waits.

CloudFormation invokes the resource's ServiceToken function asynchronously (InvocationType
Event) with a request naming a presigned S3 URL, `ResponseURL`, then waits for one PUT to that
URL, at most the resource's ServiceTimeout (default 3600 s). An answer is a JSON object with
Status (SUCCESS or FAILED), Reason, PhysicalResourceId, StackId, RequestId and
LogicalResourceId (the last three echoed from the request), and Data, all under 4096 bytes. No
answer in time fails the resource ("did not receive a response"), and a deploy rolls back.

`CloudFormation.request` plays that: a loopback server stands in for the presigned URL, and the
answer is checked as CloudFormation checks it."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.stack import LocalStack

DEFAULT_SERVICE_TIMEOUT = 3600
MAX_RESPONSE_BYTES = 4096


class CustomResourceFailed(Exception):
    """The resource answered FAILED (`answer`), answered wrongly, or did not answer within
    ServiceTimeout: CloudFormation fails the resource, and a deploy rolls back."""

    def __init__(self, message: str, answer: Answer | None = None):
        super().__init__(message)
        self.answer = answer


@dataclass
class Answer:
    status: str
    reason: str
    physical_id: str
    data: dict
    seconds: float  # from the request to the answer
    content_type: str | None


@dataclass
class _ResponseUrl:
    """One presigned URL's worth of S3: it takes one PUT."""

    bodies: list[tuple[bytes, str | None]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        url = self

        class _Put(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url.bodies.append((body, self.headers.get("Content-Type")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                url.arrived.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Put)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, request_id: str) -> str:
        port = self.server.server_address[1]
        return f"http://127.0.0.1:{port}/cfn-responses/{request_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=7200"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class CloudFormation:
    """Sends a custom resource's requests as CloudFormation does. `invoke(function, event)`
    invokes the ServiceToken's function asynchronously (the local Lambda endpoint)."""

    def __init__(self, stack: LocalStack, invoke: Callable[[str, dict], None]):
        self.stack, self.invoke = stack, invoke

    def request(
        self,
        logical_id: str,
        request_type: str,
        *,
        physical_id: str | None = None,
        old_properties: dict | None = None,
        service_timeout: float | None = None,
    ) -> Answer:
        """Send Create, Update or Delete; return the answer, or raise CustomResourceFailed as the
        resource would fail. `service_timeout` shortens the template's (a test's)."""
        props = self.stack.properties(logical_id)
        token = props["ServiceToken"]
        timeout = float(service_timeout or props.get("ServiceTimeout") or DEFAULT_SERVICE_TIMEOUT)
        request_id = str(uuid.uuid4())
        target = _ResponseUrl()
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": token,
            "ResponseURL": target.url(request_id),
            "StackId": self.stack.ref("AWS::StackId"),
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": self.stack.resources[logical_id]["Type"],
            "ResourceProperties": props,
        }
        if request_type != "Create":
            event["PhysicalResourceId"] = physical_id
        if request_type == "Update":
            event["OldResourceProperties"] = old_properties or props
        started = time.monotonic()
        try:
            self.invoke(token.split(":function:")[-1].split(":")[0], event)
            if not target.arrived.wait(timeout):
                raise CustomResourceFailed(
                    f"{logical_id}: CloudFormation did not receive a response from your Custom Resource "
                    f"within its ServiceTimeout ({timeout:.0f} s)"
                )
            seconds = time.monotonic() - started
        finally:
            target.close()
        return _checked(event, target.bodies, seconds)


def _checked(event: dict, bodies: list[tuple[bytes, str | None]], seconds: float) -> Answer:
    logical_id = event["LogicalResourceId"]
    body, content_type = bodies[0]
    if len(body) > MAX_RESPONSE_BYTES:
        raise CustomResourceFailed(f"{logical_id}: the response is {len(body)} bytes, over {MAX_RESPONSE_BYTES}")
    try:
        answer = json.loads(body)
    except ValueError:
        raise CustomResourceFailed(f"{logical_id}: the response is not JSON") from None
    for key in ("StackId", "RequestId", "LogicalResourceId"):
        if answer.get(key) != event[key]:
            raise CustomResourceFailed(f"{logical_id}: the response's {key} is not the request's")
    if answer.get("Status") not in ("SUCCESS", "FAILED"):
        raise CustomResourceFailed(f"{logical_id}: invalid Status {answer.get('Status')!r}")
    physical_id = answer.get("PhysicalResourceId")
    if not physical_id or len(physical_id) > 1024:
        raise CustomResourceFailed(f"{logical_id}: the response has no valid PhysicalResourceId")
    if event["RequestType"] == "Delete" and physical_id != event.get("PhysicalResourceId"):
        raise CustomResourceFailed(f"{logical_id}: Delete answered another PhysicalResourceId")
    result = Answer(
        answer["Status"], answer.get("Reason", ""), physical_id, answer.get("Data") or {}, seconds, content_type
    )
    if result.status == "FAILED":
        raise CustomResourceFailed(f"{logical_id}: {event['RequestType']} FAILED: {result.reason}", result)
    return result
