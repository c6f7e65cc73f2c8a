"""A burst of Telegram updates at the local webhook (the reliability matrix: load).

`make serve`'s webhook server on loopback, real PostgreSQL (embedded), the fake Bot API on
loopback; Step Functions is a recorder (every StartExecution is counted, none runs), so what
is measured is the webhook itself: the secret check, the update claim, the per-chat lock,
the job row, the StartExecution call and the reply. Each of CHATS chats sends UPDATES/CHATS
updates (two topics, /status, the 📊 Статус button, /help, ...) and some are delivered twice,
as Telegram does after a timeout; CONCURRENCY connections post them at once, shuffled.

It checks that nothing is lost or doubled (one job and one StartExecution per chat, one reply
per distinct update, every HTTP answer 200) and reports the throughput and the latency.

    make reliability-burst            # 500 updates from 100 chats
    python -m bench.reliability.burst --updates 500 --chats 100 --concurrency 16
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_ids = itertools.count(int(time.time() * 1000) * 10)  # fresh ids: the database outlives a run
KINDS = ["Реклама кофе", "/status", "📊 Статус", "Реклама чая", "/help"]


def _user(chat_id: int) -> dict:
    return {"id": chat_id, "is_bot": False, "first_name": "Анна", "language_code": "ru"}


def message(chat_id: int, text: str) -> dict:
    entities = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}] if text.startswith("/") else []
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids) % 2**31,
            "date": int(time.time()),
            "from": _user(chat_id),
            "chat": {"id": chat_id, "first_name": "Анна", "type": "private"},
            "text": text,
            "entities": entities,
        },
    }


def plan(updates: int, chats: int, redeliver: float, seed: int = 6) -> tuple[list[dict], dict[int, int]]:
    """The shuffled deliveries, and how many distinct updates each chat sends."""
    rng = random.Random(seed)
    base = random.SystemRandom().randint(6 * 10**9, 8 * 10**9)  # new chats: the database outlives a run
    chat_ids = [base + i for i in range(chats)]
    distinct, per_chat = [], dict.fromkeys(chat_ids, 0)
    for n in range(updates):
        chat = chat_ids[n % chats]
        distinct.append(message(chat, KINDS[per_chat[chat] % len(KINDS)]))
        per_chat[chat] += 1
    deliveries = distinct + rng.sample(distinct, int(len(distinct) * redeliver))
    rng.shuffle(deliveries)
    return deliveries, per_chat


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class BurstResult:
    deliveries: int
    distinct: int
    chats: int
    seconds: float
    statuses: dict[int, int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    warm_p99_ms: float  # without the first 2 x concurrency deliveries (new threads, connections, Bots)
    jobs: int
    executions: int
    replies_missing: int
    replies_extra: int

    @property
    def throughput(self) -> float:
        return self.deliveries / self.seconds

    def summary(self) -> str:
        return (
            f"{self.deliveries} deliveries ({self.distinct} distinct updates) from {self.chats} chats in "
            f"{self.seconds:.2f} s: {self.throughput:.0f} updates/s, p50 {self.p50_ms:.1f} ms, "
            f"p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms, warm p99 {self.warm_p99_ms:.1f} ms; "
            f"HTTP {self.statuses}; "
            f"{self.jobs} jobs, {self.executions} executions started, "
            f"{self.replies_missing} replies missing, {self.replies_extra} extra"
        )


def burst(
    url: str,
    secret: str,
    fake,
    sfn,
    db,
    *,
    updates: int,
    chats: int,
    concurrency: int,
    redeliver: float = 0.1,
    timeout: float = 30,
) -> BurstResult:
    """Post the burst at `url`; `fake` is the Bot API the bot answers through, `sfn` the
    Step Functions recorder (tests.reliability_support.RecordingStepFunctions), `db` the bot's
    database (videobot.data.db.Database), where the jobs are counted."""
    import requests
    from requests.adapters import HTTPAdapter

    from videobot.data import jobs

    deliveries, per_chat = plan(updates, chats, redeliver)
    local = threading.local()

    def session():
        if not hasattr(local, "s"):
            local.s = requests.Session()
            local.s.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=1))
        return local.s

    def post(update: dict) -> tuple[int, float]:
        """One delivery, delivered again (as Telegram does) while the webhook answers 409: the
        same update still being handled by another connection."""
        started = time.perf_counter()
        while True:
            r = session().post(
                url,
                data=json.dumps(update, ensure_ascii=False).encode(),
                timeout=timeout,
                headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
            )
            if r.status_code != 409 or time.perf_counter() - started > timeout:
                return r.status_code, (time.perf_counter() - started) * 1000
            time.sleep(0.05)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(post, deliveries))
    seconds = time.perf_counter() - started

    statuses: dict[int, int] = {}
    for code, _ in answers:
        statuses[code] = statuses.get(code, 0) + 1
    latencies = [ms for _, ms in answers]
    rows = db.query(
        f"SELECT chat_id, count(*) AS n FROM {jobs.JOBS} WHERE chat_id = ANY(%s) GROUP BY chat_id", (list(per_chat),)
    )
    replies: dict[int, int] = dict.fromkeys(per_chat, 0)
    for call in fake.calls_to("sendMessage"):
        chat = int(call.params.get("chat_id"))
        if chat in replies:
            replies[chat] += 1
    missing = sum(max(0, per_chat[c] - replies[c]) for c in per_chat)
    started_names = [kw["name"] for kw in sfn.named("StartExecution")]
    job_ids = {r["id"] for r in db.query(f"SELECT id FROM {jobs.JOBS} WHERE chat_id = ANY(%s)", (list(per_chat),))}
    executions = len(started_names) if sorted(started_names) == sorted(job_ids) else -1  # -1: not one per job
    extra = sum(max(0, replies[c] - per_chat[c]) for c in per_chat)
    return BurstResult(
        len(deliveries),
        updates,
        chats,
        seconds,
        statuses,
        statistics.median(latencies),
        percentile(latencies, 99),
        max(latencies),
        percentile(latencies[2 * concurrency :], 99),
        sum(r["n"] for r in rows),
        executions,
        missing,
        extra,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    from local.runner import LocalPipeline
    from local.serve import WebhookServer
    from tests.fakes.telegram_api import FakeTelegram
    from tests.reliability_support import ARN, RecordingStepFunctions

    secret = "bench-reliability-secret"
    fake = FakeTelegram().start()
    env = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_SECRET": secret,
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "ALLOWED_USER_IDS": "*",
        "LOCAL_DATA_DIR": str(ROOT / ".local" / "bench-reliability"),
    }
    try:
        with LocalPipeline(data_dir=env["LOCAL_DATA_DIR"], env=env) as pipeline:
            recorder = RecordingStepFunctions()
            # no execution runs: the webhook alone is measured
            rt = pipeline.runtime_with(STATE_MACHINE_ARN=ARN).with_parts(sfn=recorder)
            server = WebhookServer(lambda: rt, port=0).start()
            try:
                result = burst(
                    server.url,
                    secret,
                    fake,
                    recorder,
                    rt.db,
                    updates=args.updates,
                    chats=args.chats,
                    concurrency=args.concurrency,
                )
            finally:
                server.stop()
    finally:
        fake.stop()
    print(result.summary())
    ok = (
        result.statuses == {200: result.deliveries}
        and result.jobs == args.chats
        and result.executions == args.chats
        and not result.replies_missing
        and not result.replies_extra
    )
    print("OK: no update lost, no job doubled" if ok else "FAILED: see the counts above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
