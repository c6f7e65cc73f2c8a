"""The webhook's latency, warm and cold.

- warm: the Lambda handler called in-process, as a warm Lambda runs it, with real
  PostgreSQL (embedded), the Step Functions API (moto) and a fake Telegram Bot API on
  loopback: the time from the API Gateway event to the HTTP response, per kind of update;
- cold: `python -X importtime -c "import webhook.app"`, the cumulative import time of the
  handler's module (what a cold start adds before the first update), median of 5 runs.

    make bench-webhook
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from local.runner import LocalPipeline
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]

SECRET = "bench-webhook-secret"
EVENT = json.loads((ROOT / "tests" / "events" / "apigw_http_v2_webhook.json").read_text())
_ids = itertools.count(int(time.time() * 1000))  # fresh ids: the database outlives a run
_chats = itertools.count(7_000_000_000 + int(time.time()) % 10**9)


def api_event(update: dict) -> dict:
    event = json.loads(json.dumps(EVENT))
    event["headers"]["x-telegram-bot-api-secret-token"] = SECRET
    event["body"] = json.dumps(update, ensure_ascii=False)
    return event


def message(chat_id: int, text: str) -> dict:
    entities = [{"offset": 0, "length": len(text), "type": "bot_command"}] if text.startswith("/") else []
    user = {"id": chat_id, "is_bot": False, "first_name": "Анна", "language_code": "ru"}
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": int(time.time()),
            "from": user,
            "chat": {"id": chat_id, "first_name": "Анна", "type": "private"},
            "text": text,
            "entities": entities,
        },
    }


def callback(chat_id: int, data: str) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Анна", "language_code": "ru"}
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": str(next(_ids)),
            "from": user,
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "text": "…",
                "chat": {"id": chat_id, "first_name": "Анна", "type": "private"},
            },
        },
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def warm(requests: int) -> dict[str, dict]:
    fake = FakeTelegram().start()
    env = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "ALLOWED_USER_IDS": "*",  # the bench's chats are many; the allowlist fails closed
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "LOCAL_DATA_DIR": str(ROOT / ".local" / "bench-webhook"),
    }
    kinds = {
        "/status": lambda chat: message(chat, "/status"),
        "📊 Статус button": lambda chat: message(chat, "📊 Статус"),
        "/help": lambda chat: message(chat, "/help"),
        "stale ✅ button": lambda chat: callback(chat, "a:0000000000000000:s"),
        "topic (creates a job, starts an execution)": lambda chat: message(chat, "Реклама кофе"),
    }
    results = {}
    try:
        with LocalPipeline(data_dir=env["LOCAL_DATA_DIR"], env=env) as pipeline:
            from webhook.app import lambda_handler

            rt = pipeline.runtime
            for name, make in kinds.items():
                count = requests if not name.startswith("topic") else max(10, requests // 10)
                for _n in range(5):  # warm-up
                    lambda_handler.run(rt, api_event(make(next(_chats))))
                times = []
                for _n in range(count):
                    event = api_event(make(next(_chats)))  # a new chat: no job yet
                    started = time.perf_counter()
                    response = lambda_handler.run(rt, event)
                    times.append((time.perf_counter() - started) * 1000)
                    assert response["statusCode"] == 200, response
                results[name] = {
                    "n": count,
                    "p50": statistics.median(times),
                    "p99": percentile(times, 99),
                    "max": max(times),
                }
                print(f"{name}: p50 {results[name]['p50']:.1f} ms, p99 {results[name]['p99']:.1f} ms", file=sys.stderr)
    finally:
        fake.stop()
    return results


def cold(runs: int = 5) -> float:
    """Median cumulative import time of webhook.app, in seconds."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}"}
    totals = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import webhook.app"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stderr
        line = next(line for line in out.splitlines() if line.rstrip().endswith("| webhook.app"))
        totals.append(int(line.split("|")[1]) / 1e6)
    return statistics.median(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per kind of update")
    args = parser.parse_args()
    import_seconds = cold()
    results = warm(args.requests)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.\n")
    print("| update | requests | p50 | p99 | max |\n|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['n']} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['max']:.1f} ms |")
    print(f"\nCold import of `webhook.app` (`python -X importtime`, median of 5): {import_seconds:.2f} s")


if __name__ == "__main__":
    main()
