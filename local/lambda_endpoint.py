"""A loopback HTTP server speaking the Lambda Invoke API, so moto's Step Functions
interpreter reaches our handlers in-process (AWS_ENDPOINT_URL_LAMBDA points here).

`X-Amz-Invocation-Type: Event` is run as Lambda runs an asynchronous invocation: answered
202 with an empty body at once, the handler run in the background, and a run that raised or
timed out run again, twice at most (Lambda's default MaximumRetryAttempts; Lambda waits about
1 and 2 minutes, here `async_retry_delays`)."""

from __future__ import annotations

import importlib
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

Handler = Callable[[dict, object], object]


class _BurstServer(ThreadingHTTPServer):
    """A listen backlog for bursts: the default (5) drops simultaneous connects, which then
    wait 1-3 s for a SYN retransmit."""

    request_queue_size = 128
    daemon_threads = True
    endpoint: LambdaEndpoint  # set by LambdaEndpoint.start, before it serves

    def process_request(self, request, client_address):
        # in flight from the moment the connection is accepted, not once its handler has read
        # the body: wait_idle must never see 0 while an invocation is on its way in
        with self.endpoint._lock:
            self.endpoint.in_flight += 1
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.endpoint._lock:
                self.endpoint.in_flight -= 1
                self.endpoint._idle.notify_all()


class LambdaContext:
    def __init__(self, function_name: str, timeout_s: float = 900):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_name
        self.memory_limit_in_mb = 1024
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _run_with_timeout(handler: Handler, event: dict, context: LambdaContext, timeout: float):
    """(result, exception) of the handler, or None when it ran past `timeout`. Lambda kills
    the sandbox then; a thread cannot be killed, so it runs on unobserved (its result is
    dropped), which is what a killed Lambda's half-done work looks like to the caller."""
    box: list = []

    def run():
        try:
            box.append((handler(event, context), None))
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            box.append((None, exc))

    worker = threading.Thread(target=run, name=f"lambda-{context.function_name}", daemon=True)
    worker.start()
    worker.join(timeout)
    return box[0] if box else None


# What the handlers import lazily: locally every stage is a thread of one process, and two
# threads importing one large SDK at once can see it "partially initialized". On AWS each
# Lambda is its own process; here they are imported once, before any invocation is served.
PRELOAD = (
    "httpx",
    "openai",
    "runwayml",
    "requests",
    "boto3",
    "botocore",
    "telegram",
    "imageio_ffmpeg",
    "espeakng_loader",
    "PIL.Image",
    "numpy",
)


def preload() -> list[str]:
    """Import what the handlers need before serving; returns the modules loaded (an SDK that
    is not installed is left out: its provider is not in use)."""
    loaded = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except ImportError:
            pass
    return loaded


def import_handler(path: str) -> Handler:
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


class LambdaEndpoint:
    """Maps function names (or ARNs) to handler callables and serves Invoke on 127.0.0.1."""

    def __init__(
        self,
        handlers: dict[str, Handler],
        timeouts: dict[str, float] | None = None,
        async_retry_delays: tuple[float, ...] = (1.0, 2.0),
    ):
        self.handlers = handlers
        self.async_retry_delays = async_retry_delays
        # (function, attempt, outcome) of every asynchronous run: "ok", "Sandbox.Timedout" or
        # the exception's class name
        self.async_runs: list[tuple[str, int, str]] = []
        # each function's Timeout (template.yaml): an invocation still running then is answered
        # as Lambda answers it, Sandbox.Timedout (a test may shorten one)
        self.timeouts = dict(timeouts or {})
        self.invocations: list[str] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self.in_flight = 0
        endpoint = self

        class _Request(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                parts = self.path.split("?")[0].split("/")
                if len(parts) < 5 or parts[2] != "functions" or parts[4] != "invocations":
                    return self._reply(404, {"Type": "User", "message": "unknown path"})
                name = unquote(parts[3]).split(":function:")[-1].split(":")[0]
                handler = endpoint.handlers.get(name)
                if handler is None:
                    return self._reply(
                        404,
                        {"Type": "User", "message": f"Function not found: {name}"},
                        {"x-amzn-ErrorType": "ResourceNotFoundException"},
                    )
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                event = json.loads(raw) if raw else {}
                with endpoint._lock:
                    endpoint.invocations.append(name)
                timeout = endpoint.timeouts.get(name, 900.0)
                if self.headers.get("X-Amz-Invocation-Type") == "Event":
                    endpoint._run_async(name, handler, event, timeout)
                    self.send_response(202)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                outcome = _run_with_timeout(handler, event, LambdaContext(name, timeout), timeout)
                if outcome is None:
                    message = f"RequestId: {uuid.uuid4()} Error: Task timed out after {timeout:.2f} seconds"
                    timed_out = {"errorType": "Sandbox.Timedout", "errorMessage": message}
                    return self._reply(200, timed_out, {"X-Amz-Function-Error": "Unhandled"})
                result, exc = outcome
                if exc is not None:  # reported the way Lambda reports an unhandled error
                    body = {
                        "errorType": type(exc).__name__,
                        "errorMessage": str(exc),
                        "stackTrace": traceback.format_exception(exc)[-3:],
                    }
                    return self._reply(200, body, {"X-Amz-Function-Error": "Unhandled"})
                return self._reply(200, result)

            def _reply(self, status: int, body, headers: dict | None = None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Amz-Executed-Version", "$LATEST")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = _BurstServer(("127.0.0.1", 0), _Request)
        self.server.endpoint = self
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="lambda-endpoint", daemon=True)

    def _run_async(self, name: str, handler: Handler, event: dict, timeout: float) -> None:
        """An Event invocation: in flight until its last attempt ends."""
        with self._lock:
            self.in_flight += 1

        def attempts():
            try:
                for attempt, delay in enumerate((0.0, *self.async_retry_delays)):
                    time.sleep(delay)
                    outcome = _run_with_timeout(handler, event, LambdaContext(name, timeout), timeout)
                    result = (
                        "Sandbox.Timedout"
                        if outcome is None
                        else "ok"
                        if outcome[1] is None
                        else type(outcome[1]).__name__
                    )
                    with self._lock:
                        self.async_runs.append((name, attempt, result))
                    if result == "ok":
                        return
            finally:
                with self._lock:
                    self.in_flight -= 1
                    self._idle.notify_all()

        threading.Thread(target=attempts, name=f"lambda-event-{name}", daemon=True).start()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no invocation is running. Like Lambda, an invocation whose execution
        ended (a failed sibling branch, a stopped execution) runs to its own end; a caller that
        inspects what the job left behind waits for those first."""
        with self._idle:
            return self._idle.wait_for(lambda: self.in_flight == 0, timeout)

    def start(self) -> LambdaEndpoint:
        preload()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
