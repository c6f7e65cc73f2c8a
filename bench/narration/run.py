"""What keeping every narration part whole costs: parts rewritten, rounds, time added.

Runs RecordVoiceover (the real stage, on embedded Postgres and local media) over scripts whose
parts the fake LLM writes too long (tests/narration_support.py: Russian and English, two to four
parts of 15-30 words in each; half the scripts' rewrites obey the word limit, a quarter ignore it
once, a quarter in both rounds), through the real OpenAI client against the fake OpenAI API, with
the fakes' voice in-process. The control runs the same scripts with every part short. Then it
measures the track: every word of each segment's text heard whole and inside its segment.

    make bench-narration                          # 40 scripts, the LLM answering at once
    .venv/bin/python -m bench.narration.run --scripts 40 --llm-seconds 3
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
from pathlib import Path

from local.environment import LocalRuntime
from local.runner import start_embedded_postgres
from tests.fakes.fixtures import openai_vars
from tests.fakes.openai_api import FakeOpenAI
from tests.narration_support import (
    WordVoice,
    disobedient_rounds,
    overlong_script,
    record_overlong,
    what_is_not_heard,
)
from videobot.data.db import Database
from videobot.migrate import migrate
from videobot.observability import logger

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".local" / "bench-narration"


def run(rt, fake: FakeOpenAI, scripts: int, *, long_parts: bool) -> list[dict]:
    rows = []
    for number in range(scripts):
        recorded = record_overlong(
            rt, fake, number, disobedient_rounds=disobedient_rounds(number), long_parts=long_parts
        )
        rows.append(
            {
                **recorded.result["narration"],
                "long": sum(1 for p in overlong_script(number, long_parts=long_parts)[2] if len(p.split()) >= 15),
                "seconds": recorded.seconds,
                "whole": not what_is_not_heard(rt, recorded.job_id, rt.settings.assembly.narration_rescue_tempo),
            }
        )
    return rows


def report(rows: list[dict], control: list[dict], args) -> str:
    parts = sum(len(r["rewritten"]) for r in rows)
    rounds = [r["rounds"] for r in rows]
    added = statistics.median(r["seconds"] for r in rows) - statistics.median(r["seconds"] for r in control)
    lines = [
        f"{len(rows)} scripts (half Russian, half English), LLM latency {args.llm_seconds:g} s, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "",
        "| figure | value |",
        "|---|---|",
        f"| scripts with every word heard whole, inside its segment | {sum(r['whole'] for r in rows)} of {len(rows)} |",
        f"| parts written too long (15-30 words) | {sum(r['long'] for r in rows)} |",
        f"| parts rewritten by the LLM | {parts} ({parts / len(rows):.1f} a script) |",
        f"| rewrite rounds per script (one LLM call each) | median {statistics.median(rounds):g}, max {max(rounds)} |",
        f"| scripts needing a second round | {sum(1 for r in rounds if r >= 2)} of {len(rows)} |",
        f"| parts read past NARRATION_MAX_TEMPO after the rounds | {sum(len(r['sped_up']) for r in rows)} |",
        f"| parts kept to their first words (the last resort) | {sum(len(r['shortened']) for r in rows)} |",
        f"| parts spoken again | {sum(r['respoken'] for r in rows)} |",
        f"| RecordVoiceover, median per script | {statistics.median(r['seconds'] for r in rows):.2f} s "
        f"(control, every part short: {statistics.median(r['seconds'] for r in control):.2f} s) |",
        f"| time added, median | {added:.2f} s |",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scripts", type=int, default=40)
    parser.add_argument("--llm-seconds", type=float, default=0.0, help="the fake LLM's latency per call")
    args = parser.parse_args()
    shutil.rmtree(DATA / "media", ignore_errors=True)
    DATA.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")
    logger.setLevel("ERROR")  # the stage's INFO and WARNING lines would bury the table
    server, url = start_embedded_postgres(DATA)
    db = Database(url)
    migrate(db)
    fake = FakeOpenAI().start()
    if args.llm_seconds:
        fake.slow("POST /v1/responses", args.llm_seconds, times=10**9)
    try:
        env = {"DATABASE_URL": url, "MEDIA_DIR": str(DATA / "media"), **openai_vars(fake)}
        rt = LocalRuntime(env, db=db, parts={"speech": WordVoice()})
        control = run(rt, fake, args.scripts, long_parts=False)
        rows = run(rt, fake, args.scripts, long_parts=True)
    finally:
        fake.stop()
        db.close()
        server.cleanup()
    print(report(rows, control, args))
    return 0 if all(r["whole"] for r in rows + control) else 1


if __name__ == "__main__":
    sys.exit(main())
