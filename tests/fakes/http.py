"""The base of every vendor fake: a threaded HTTP server on 127.0.0.1 that records each request
and can answer with injected faults (an HTTP error, a slow reply, a malformed body)."""

from __future__ import annotations

import fnmatch
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# How often serve_forever looks for a shutdown request: socketserver's default (0.5 s) made
# every stop() of a fake wait half a second, once per test that starts one.
SHUTDOWN_POLL_SECONDS = 0.02


class BurstServer(ThreadingHTTPServer):
    """A listen backlog for bursts: the default (5) drops simultaneous connects, which then
    wait 1-3 s for a SYN retransmit."""

    request_queue_size = 128
    daemon_threads = True

    def serve_forever(self, poll_interval: float = SHUTDOWN_POLL_SECONDS) -> None:
        super().serve_forever(poll_interval)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"

    def json(self):
        return json.loads(self.body or b"null")


@dataclass
class Fault:
    route: str  # "POST /v1/responses", wildcards allowed: "GET /v1/tasks/*"
    status: int | None  # None: only delay, then answer normally
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int = 1


Reply = tuple[int, dict[str, str], bytes]


def json_reply(status: int, obj, headers: dict | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(obj).encode()


class FakeServer:
    """Subclasses implement `handle(request) -> (status, headers, body)`."""

    def __init__(self):
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # -- faults -------------------------------------------------------------------------------

    def fail(
        self,
        route: str,
        status: int,
        *,
        times: int = 1,
        body=None,
        headers: dict | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next `times` requests on `route` with `status` (a dict/list body is JSON)."""
        raw = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
        self.faults.append(
            Fault(route, status, raw, {"Content-Type": "application/json", **(headers or {})}, delay, times)
        )

    def malformed(self, route: str, *, times: int = 1, status: int = 200) -> None:
        """Answer with a truncated JSON body."""
        self.fail(route, status, times=times, body=b'{"id": "trunc')

    def slow(self, route: str, seconds: float, *, times: int = 1) -> None:
        self.faults.append(Fault(route, None, delay=seconds, times=times))

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fnmatch.fnmatch(route, fault.route):
                    fault.times -= 1
                    return fault
        return None

    # -- inspection ---------------------------------------------------------------------------

    def calls(self, pattern: str) -> list[Request]:
        return [r for r in list(self.requests) if fnmatch.fnmatch(r.route, pattern)]

    # -- serving ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def _dispatch(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
        fault = self._take_fault(request.route)
        if fault:
            time.sleep(fault.delay)
            if fault.status is not None:
                return fault.status, fault.headers, fault.body
        return self.handle(request)

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # keep-alive replies would wait ~40 ms for a delayed ACK

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    self.command,
                    self.path.split("?", 1)[0],
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                try:
                    status, headers, payload = fake._dispatch(request)
                except Exception as exc:  # noqa: BLE001 - a bug in the fake: make it loud, as a 500
                    status, headers, payload = json_reply(500, {"error": f"fake crashed: {exc!r}"})
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                    pass

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self._server = BurstServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
