"""A topic's latency through the webhook over a long history: 100,000 jobs and 1,000,000 rows in
the spend ledger (PostgreSQL), all in the last 24 hours by default (the worst case: the budget
check sums the whole window), then topics from new users through the Lambda handler with the
budgets on. Step Functions is a recorder (no execution runs, as on AWS the webhook only starts
one), so the figure is the webhook's own: the claim, the chat's lock, the limits, the ledger's
budget check and hold, the job row, the reply through a fake Bot API on loopback.

    make bench-webhook-history            # JOBS=100000 ROWS=1000000 TOPICS=200 HOURS=24
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from bench.webhook.run import SECRET, api_event, message, percentile
from local.runner import LocalPipeline
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
_chats = itertools.count(8_000_000_000 + int(time.time()) % 10**9)
SEEDED_USER = 8_999_000_000  # the history's users are 8_999_000_000 + (n % 5000)


class RecordedStepFunctions:
    def __init__(self):
        self.started = 0

    def start_execution(self, **kwargs):
        self.started += 1
        return {"executionArn": f"arn:aws:states:us-east-1:123456789012:execution:vp:{kwargs['name']}"}


def seed(db, jobs: int, rows: int, hours: float) -> float:
    """The history, written by PostgreSQL itself (generate_series); returns the seconds it took.
    Jobs are spread over `hours`, each with rows // jobs ledger rows (settled LLM, speech and
    Runway lines, a few cents each)."""
    started = time.perf_counter()
    per_job = max(1, rows // jobs)
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM ai_video_bot.video_jobs_enhanced WHERE id LIKE 'hist-%%'")
        if cur.fetchone()[0] >= jobs:
            return 0.0
        cur.execute(
            "INSERT INTO ai_video_bot.video_jobs_enhanced (id, user_id, chat_id, prompt, status, created_at)"
            " SELECT 'hist-' || n, %s + n %% 5000, %s + n %% 5000, 'history', 'completed',"
            " (now() AT TIME ZONE 'utc') - (n::float / %s * %s) * interval '1 hour'"
            " FROM generate_series(1, %s) AS n",
            (SEEDED_USER, SEEDED_USER, jobs, hours * 0.999, jobs),
        )
        cur.execute(
            "INSERT INTO ai_video_bot.vendor_usage (job_id, user_id, stage, segment_index, vendor, model, state,"
            " reserved_usd, amount_usd, recorded_at, settled_at, call_key)"
            " SELECT j.id, j.user_id, 'generate_clips', k, 'runway', 'gen4_turbo', 'settled', 0.0001, 0.0001,"
            " j.created_at + k * interval '1 second', j.created_at + k * interval '1 second', j.id || ':' || k"
            " FROM ai_video_bot.video_jobs_enhanced AS j, generate_series(1, %s) AS k WHERE j.id LIKE 'hist-%%'",
            (per_job,),
        )
        cur.execute("ANALYZE ai_video_bot.vendor_usage")
        cur.execute("ANALYZE ai_video_bot.video_jobs_enhanced")
    return time.perf_counter() - started


def topics(rt, count: int) -> list[float]:
    from webhook.app import lambda_handler

    for _ in range(5):  # warm-up
        lambda_handler.run(rt, api_event(message(next(_chats), "Реклама кофе")))
    times = []
    for _ in range(count):
        event = api_event(message(next(_chats), "Реклама кофе"))  # a new user: no job yet
        started = time.perf_counter()
        response = lambda_handler.run(rt, event)
        times.append((time.perf_counter() - started) * 1000)
        assert response["statusCode"] == 200, response
    return times


def budget_query_ms(db, runs: int = 50) -> tuple[float, str]:
    """The budget check alone (ledger.spent), median ms, and its plan."""
    from videobot.data import ledger

    times = []
    with db.connect() as conn, conn.cursor() as cur:
        for _ in range(runs):
            started = time.perf_counter()
            ledger.spent(cur, SEEDED_USER)
            times.append((time.perf_counter() - started) * 1000)
        cur.execute(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT COALESCE(SUM(usd) FILTER (WHERE user_id = %s), 0),"
            " COALESCE(SUM(usd) FILTER (WHERE user_id = 0), 0) FROM ai_video_bot.spend_slots"
            " WHERE user_id IN (%s, 0) AND slot >= date_bin('5 minutes',"
            " (now() AT TIME ZONE 'utc') - interval '24 hours', TIMESTAMP '2000-01-01')",
            (SEEDED_USER, SEEDED_USER),
        )
        plan = "\n".join(r[0] for r in cur.fetchall())
    return statistics.median(times), plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--topics", type=int, default=200)
    parser.add_argument("--hours", type=float, default=24.0, help="the history's span (24: all in the window)")
    args = parser.parse_args()
    fake = FakeTelegram().start()
    data_dir = ROOT / ".local" / f"bench-webhook-history-{args.jobs}-{args.rows}-{args.hours:g}"
    env = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "LOCAL_DATA_DIR": str(data_dir),
        "ALLOWED_USER_IDS": "*",
        "MAX_USD_PER_DAY": "1000000",  # on: the check runs, and the history fits it
        "MAX_USD_PER_USER_PER_DAY": "30",
    }
    try:
        with LocalPipeline(data_dir=env["LOCAL_DATA_DIR"], env=env) as pipeline:
            rt = pipeline.runtime
            rt.__dict__["sfn"] = RecordedStepFunctions()
            seconds = seed(rt.db, args.jobs, args.rows, args.hours)
            print(
                f"seeded {args.jobs} jobs, {args.rows} ledger rows over {args.hours} h in {seconds:.1f} s",
                file=sys.stderr,
            )
            query_ms, plan = budget_query_ms(rt.db)
            times = topics(rt, args.topics)
    finally:
        fake.stop()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.\n")
    print(f"History: {args.jobs:,} jobs and {args.rows:,} ledger rows over the last {args.hours:g} hours.\n")
    print("| topic through the webhook | requests | p50 | p99 | max |\n|---|---|---|---|---|")
    print(
        f"| new user's topic (budget check, hold, job, reply) | {len(times)} | {statistics.median(times):.1f} ms"
        f" | {percentile(times, 99):.1f} ms | {max(times):.1f} ms |"
    )
    print(f"\nThe budget check alone (ledger.spent, median of 50): {query_ms:.1f} ms. Its plan:\n\n{plan}")


if __name__ == "__main__":
    main()
