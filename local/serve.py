"""`make serve`: the Telegram bot on this machine, against the local state machine.

Webhook mode (default) serves `POST /webhook` on 127.0.0.1:$PORT and feeds each request to
the same handler API Gateway feeds (functions/webhook/app.py), as an HTTP API v2 event.
`MODE=polling` long-polls getUpdates instead (for a real token without a public URL) and
feeds every update through that same handler. Bot API calls go to
`{TELEGRAM_API_BASE_URL}/bot{TELEGRAM_BOT_TOKEN}/{method}`."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from local import load_dotenv_file
from local.lambda_endpoint import LambdaContext
from local.runner import LocalPipeline
from videobot import runtime
from videobot.config import Settings
from videobot.runtime import Runtime

WEBHOOK_PATH = "/webhook"


class _BurstServer(ThreadingHTTPServer):
    """A listen backlog for bursts: the default (5) drops simultaneous connects, which then
    wait 1-3 s for a SYN retransmit."""

    request_queue_size = 128
    daemon_threads = True


def api_gateway_event(body: str, headers: dict[str, str], path: str = WEBHOOK_PATH, method: str = "POST") -> dict:
    """An API Gateway HTTP API (payload format 2.0) event, as Lambda receives it."""
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": f"{method} {WEBHOOK_PATH}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": secrets.token_hex(8),
            "routeKey": f"{method} {WEBHOOK_PATH}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": body,
        "isBase64Encoded": False,
    }


def invoke_webhook(rt: Runtime, event: dict) -> dict:
    from webhook.app import lambda_handler

    return lambda_handler.run(rt, event, LambdaContext("WebhookFunction", timeout_s=30))


class WebhookServer:
    """`POST /webhook` on host:port -> the webhook Lambda handler, with the runtime `runtime()`
    gives at each request (the local pipeline's)."""

    def __init__(self, runtime: Callable[[], Runtime], host: str = "127.0.0.1", port: int = 8080):
        class _Request(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # keep-alive replies would wait ~40 ms for a delayed ACK

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                if self.path.split("?")[0] != WEBHOOK_PATH:
                    return self._reply(404, '{"message":"Not Found"}')
                result = invoke_webhook(runtime(), api_gateway_event(body, dict(self.headers.items())))
                self._reply(result.get("statusCode", 200), result.get("body") or "")

            def do_GET(self):
                self._reply(404 if self.path != "/health" else 200, '{"ok":true}')

            def _reply(self, status: int, body: str):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = _BurstServer((host, port), _Request)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}{WEBHOOK_PATH}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="webhook", daemon=True)

    def start(self) -> WebhookServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Poller:
    """Long polling: getUpdates from the Bot API, each update through the webhook handler
    (so the secret check, the update_id dedupe and the answers are the same)."""

    def __init__(self, runtime: Callable[[], Runtime], timeout: int = 30):
        self.runtime, self.timeout = runtime, timeout
        self.offset = 0
        self._stop = threading.Event()

    def poll_once(self) -> int:
        from videobot.telegram import bot

        rt = self.runtime()
        settings = rt.settings
        updates = bot.run(
            lambda b: b.get_updates(
                offset=self.offset,
                timeout=self.timeout,
                allowed_updates=["message", "edited_message", "callback_query"],
            ),
            settings,
        )
        secret = settings.telegram.webhook_secret or ""
        for update in updates:
            body = json.dumps(update.to_dict())
            result = invoke_webhook(rt, api_gateway_event(body, {"X-Telegram-Bot-Api-Secret-Token": secret}))
            if result["statusCode"] >= 500 or result["statusCode"] == 409:  # again on the next getUpdates
                return len(updates)
            self.offset = update.update_id + 1
        return len(updates)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - keep polling through outages
                print(f"getUpdates failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                self._stop.wait(3)

    def stop(self) -> None:
        self._stop.set()


def set_webhook(url: str, settings: Settings) -> bool:
    """Register `url` with the Bot API, with TELEGRAM_WEBHOOK_SECRET as the secret token
    Telegram echoes in X-Telegram-Bot-Api-Secret-Token."""
    from videobot.telegram import bot

    secret = settings.telegram.webhook_secret
    if not secret:
        raise SystemExit("Set TELEGRAM_WEBHOOK_SECRET first (1-256 characters: A-Z, a-z, 0-9, _ and -).")
    return bot.run(
        lambda b: b.set_webhook(
            url, secret_token=secret, allowed_updates=["message", "edited_message", "callback_query"]
        ),
        settings,
    )


def main(argv: list[str] | None = None) -> int:
    load_dotenv_file()
    parser = argparse.ArgumentParser(prog="python -m local.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["webhook", "polling"], default=os.environ.get("MODE") or "webhook")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8080))
    parser.add_argument("--set-webhook", metavar="URL", help="register URL as the bot's webhook, then exit")
    args = parser.parse_args(argv)
    if not os.environ.get("TELEGRAM_BOT_TOKEN"):
        print("Set TELEGRAM_BOT_TOKEN (a real token, or the fake's) and TELEGRAM_API_BASE_URL.", file=sys.stderr)
        return 2
    if args.set_webhook:
        print("webhook set:", set_webhook(args.set_webhook, runtime.from_environment().settings))
        return 0
    if not os.environ.get("TELEGRAM_WEBHOOK_SECRET"):
        os.environ["TELEGRAM_WEBHOOK_SECRET"] = secrets.token_urlsafe(24)
        if args.mode == "webhook":
            print("TELEGRAM_WEBHOOK_SECRET was not set; this run uses:", os.environ["TELEGRAM_WEBHOOK_SECRET"])
    with LocalPipeline() as pipeline:
        print(f"state machine: {pipeline.state_machine_arn}")
        print(f"Bot API: {os.environ.get('TELEGRAM_API_BASE_URL') or 'https://api.telegram.org'}")
        if not pipeline.runtime.settings.telegram.allowed_user_ids:
            print(
                "ALLOWED_USER_IDS is empty, so the bot refuses everyone: set your Telegram user id "
                "(or * to open it to everyone) in .env",
                file=sys.stderr,
            )
        try:
            if args.mode == "polling":
                from videobot.telegram import bot

                # getUpdates refuses while a webhook is set
                bot.run(lambda b: b.delete_webhook(), pipeline.runtime.settings)
                print("long polling getUpdates; Ctrl+C stops")
                Poller(lambda: pipeline.runtime).run()
            else:
                server = WebhookServer(lambda: pipeline.runtime, args.host, args.port).start()
                print(
                    f"POST Telegram updates to {server.url} with the header X-Telegram-Bot-Api-Secret-Token; "
                    "Ctrl+C stops"
                )
                threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
