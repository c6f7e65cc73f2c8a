"""N users at once, each from a topic to the delivered video, through the webhook.

`make serve`'s webhook server on loopback in front of the local state machine (moto's
interpreter, every handler in this process sharing one PostgreSQL pool, as the local runner
runs them), the offline providers with the seed's vendor times multiplied by --scale, the
fake Bot API on loopback. Each user sends a topic at the same moment; every gate question is
approved as soon as it arrives, and each approval is delivered twice at once, as Telegram
redelivers an update whose answer was late; any non-2xx answer is delivered again, as
Telegram does.

It checks that every user got exactly one video, that each has one job, completed, that no
job met a stage failure (RecordFailure), and reports the wall time (the first topic to the
last video), each user's time, the webhook's answers and the peak of PostgreSQL connections.

    make bench-load                         # 20 users, scale 0.25
    .venv/bin/python -m bench.load.run --users 20 --scale 0.25
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench-load-secret"


@dataclass
class UserRun:
    chat_id: int
    topic_sent: float = 0.0
    video_at: float | None = None
    approvals: list[str] = field(default_factory=list)  # callback data pressed, in order
    error: str | None = None


@dataclass
class LoadResult:
    users: int
    scale: float
    wall: float
    per_user: list[float]
    videos: dict[int, int]  # chat -> sendVideo calls
    jobs: dict[int, list[str]]  # chat -> job statuses
    failed_stages: int  # executions that entered RecordFailure
    answers: dict[int, int]  # HTTP status -> count, every delivery
    peak_connections: int
    errors: list[str]

    @property
    def ok(self) -> bool:
        return (
            all(n == 1 for n in self.videos.values())
            and all(statuses == ["completed"] for statuses in self.jobs.values())
            and self.failed_stages == 0
            and not self.errors
        )

    def summary(self) -> str:
        served = sum(1 for n in self.videos.values() if n == 1)
        twice = sum(1 for n in self.videos.values() if n > 1)
        return (
            f"{self.users} users at once, scale {self.scale}: wall {self.wall:.1f} s "
            f"(first topic to last video); per user min {min(self.per_user, default=0):.1f} s, "
            f"median {statistics.median(self.per_user) if self.per_user else 0:.1f} s, "
            f"max {max(self.per_user, default=0):.1f} s; {served}/{self.users} got their video, "
            f"{twice} got it twice; jobs {dict(Counter(s for v in self.jobs.values() for s in v))}; "
            f"{self.failed_stages} executions failed a stage; webhook answers {dict(sorted(self.answers.items()))}; "
            f"peak PostgreSQL connections {self.peak_connections}"
            + (f"; errors: {self.errors[:5]}" if self.errors else "")
        )


class Telegram:
    """Delivers updates as Telegram does: again after any non-2xx answer (with a short backoff),
    and, for approvals, twice at once."""

    def __init__(self, url: str):
        import requests

        self.url = url
        self.session = threading.local()
        self.answers: Counter[int] = Counter()
        self._lock = threading.Lock()
        self._requests = requests

    def _post(self, update: dict) -> int:
        if not hasattr(self.session, "s"):
            self.session.s = self._requests.Session()
        r = self.session.s.post(
            self.url,
            data=json.dumps(update, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
            timeout=60,
        )
        with self._lock:
            self.answers[r.status_code] += 1
        return r.status_code

    def deliver(self, update: dict, deadline: float = 300) -> None:
        """Until acknowledged (2xx), backing off as Telegram does (here 0.2 s, doubling to 5 s)."""
        end, pause = time.monotonic() + deadline, 0.2
        while not 200 <= self._post(update) < 300:
            if time.monotonic() > end:
                raise TimeoutError(f"update {update['update_id']} never acknowledged")
            time.sleep(pause)
            pause = min(pause * 2, 5.0)

    def deliver_twice_at_once(self, update: dict) -> None:
        threads = [threading.Thread(target=self.deliver, args=(update,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


_ids = iter(range(random.randint(10**9, 2 * 10**9), 10**12))
_ids_lock = threading.Lock()


def _next_id() -> int:
    with _ids_lock:
        return next(_ids)


def _user(chat_id: int) -> dict:
    return {"id": chat_id, "is_bot": False, "first_name": "Анна", "language_code": "ru"}


def topic_update(chat_id: int, text: str) -> dict:
    return {
        "update_id": _next_id(),
        "message": {
            "message_id": _next_id() % 2**31,
            "date": int(time.time()),
            "from": _user(chat_id),
            "chat": {"id": chat_id, "first_name": "Анна", "type": "private"},
            "text": text,
        },
    }


def callback_update(chat_id: int, data: str, message: dict) -> dict:
    return {
        "update_id": _next_id(),
        "callback_query": {
            "id": str(_next_id()),
            "from": _user(chat_id),
            "chat_instance": str(chat_id),
            "data": data,
            "message": {
                "message_id": message.get("message_id", 1),
                "date": int(time.time()),
                "chat": {"id": chat_id, "first_name": "Анна", "type": "private"},
                "text": message.get("text", "…"),
            },
        },
    }


def approve_buttons(call) -> list[str]:
    """The ✅ callback data of a gate question ("a:<job>:<stage>:<round>")."""
    markup = call.params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
    return [b["callback_data"] for b in buttons if str(b.get("callback_data", "")).startswith("a:")]


def drive_user(run: UserRun, fake, telegram: Telegram, topic: str, timeout: float) -> None:
    """One user: the topic, then every gate approved as soon as it is asked, until the video."""
    run.topic_sent = time.monotonic()
    telegram.deliver(topic_update(run.chat_id, topic))
    pressed: set[str] = set()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fake.calls_to("sendVideo", chat_id=run.chat_id):
            run.video_at = time.monotonic()
            return
        for call in fake.calls_to("sendMessage", chat_id=run.chat_id):
            for data in approve_buttons(call):
                if data not in pressed:
                    pressed.add(data)
                    run.approvals.append(data)
                    telegram.deliver_twice_at_once(callback_update(run.chat_id, data, call.result or {}))
        time.sleep(0.2)
    run.error = f"chat {run.chat_id}: no video within {timeout:.0f} s (approved {run.approvals})"


class ConnectionPeak:
    """Samples pg_stat_activity's client backends every 0.2 s; `peak` is the highest count."""

    def __init__(self, url: str):
        self.url, self.peak = url, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg2

        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        try:
            while not self._stop.wait(0.2):
                with conn.cursor() as cur:
                    cur.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
                    self.peak = max(self.peak, cur.fetchone()[0] - 1)  # not this sampler's own
        finally:
            conn.close()

    def __enter__(self) -> ConnectionPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def run_load(pipeline, fake, url: str, *, users: int, scale: float, topic: str, timeout: float) -> LoadResult:
    from videobot.data import jobs

    base = random.SystemRandom().randint(6 * 10**9, 8 * 10**9)  # new chats: the database outlives a run
    runs = [UserRun(base + i) for i in range(users)]
    telegram = Telegram(url)
    started = time.monotonic()
    with ConnectionPeak(pipeline.runtime.db.url) as peak, ThreadPoolExecutor(users) as pool:
        futures = [pool.submit(drive_user, r, fake, telegram, topic, timeout) for r in runs]
        for f in futures:
            f.result()
    wall = max((r.video_at or time.monotonic()) for r in runs) - started
    pipeline.settle(60)
    db, chats = pipeline.runtime.db, [r.chat_id for r in runs]
    rows = db.query(f"SELECT id, chat_id, status, execution_arn FROM {jobs.JOBS} WHERE chat_id = ANY(%s)", (chats,))
    by_chat: dict[int, list[str]] = {c: [] for c in chats}
    failed = 0
    for row in rows:
        by_chat[int(row["chat_id"])].append(row["status"])
        if row["execution_arn"]:
            entered = {
                (e.get("stateEnteredEventDetails") or {}).get("name")
                for e in pipeline.history(jobs.get_job(db, row["id"]))
            }
            failed += "RecordFailure" in entered
    return LoadResult(
        users=users,
        scale=scale,
        wall=wall,
        per_user=[r.video_at - r.topic_sent for r in runs if r.video_at],
        videos={c: len(fake.calls_to("sendVideo", chat_id=c)) for c in chats},
        jobs=by_chat,
        failed_stages=failed,
        answers=dict(telegram.answers),
        peak_connections=peak.peak,
        errors=[r.error for r in runs if r.error],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--scale", type=float, default=0.25, help="the offline vendors' time scale")
    parser.add_argument("--topic", default="Реклама кофе")
    parser.add_argument("--timeout", type=float, default=1800, help="per user, seconds")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    from bench.pipeline.run import scaled_vendors
    from local.runner import LocalPipeline
    from local.serve import WebhookServer
    from tests.fakes.telegram_api import FakeTelegram
    from videobot.observability import logger

    logger.setLevel("WARNING")
    fake = FakeTelegram().start()
    env = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "ALLOWED_USER_IDS": "*",
        "MAX_USD_PER_DAY": "0",
        **scaled_vendors(args.scale),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "LOCAL_DATA_DIR": str(ROOT / ".local" / "bench-load"),
    }
    try:
        with LocalPipeline(data_dir=env["LOCAL_DATA_DIR"], env=env) as pipeline:
            server = WebhookServer(lambda: pipeline.runtime, port=0).start()
            try:
                result = run_load(
                    pipeline,
                    fake,
                    server.url,
                    users=args.users,
                    scale=args.scale,
                    topic=args.topic,
                    timeout=args.timeout,
                )
            finally:
                server.stop()
    finally:
        fake.stop()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(result.summary())
    print(machine)
    if args.json:
        args.json.write_text(json.dumps({**result.__dict__, "machine": machine}, indent=2, default=str))
    print("OK: every user got one video" if result.ok else "FAILED: see the counts above")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
