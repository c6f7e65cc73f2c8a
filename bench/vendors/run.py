"""What the pipeline adds to the vendors' own time, through the real clients.

Runs the real state machine offline (moto's interpreter, the stage handlers in-process) with
the real OpenAI and Runway clients against the local fakes (tests/fakes), first with vendors
that answer at once, then at fixed vendor latencies. The difference of the two walls is what
the latencies cost the user; the target is at most 1.3 x the critical path those latencies
make (3 LLM calls, segment 0's image, then images 1-9, then one clip:
tests/fakes/vendors.Latencies.critical_path). The fixed work (FFmpeg, the interpreter) is in
both walls, so it cancels out.

    make bench-vendors                       # LLM 2 s, images 6 s, clips 12 s, then the sweep
    .venv/bin/python -m bench.vendors.run --runs 2
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
from pathlib import Path

from bench.pipeline.run import event_seconds
from local.runner import LocalPipeline
from tests.fakes.vendors import Latencies, running_fakes
from videobot.observability import logger

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / ".local" / "bench-vendors"
POINT = Latencies(llm_seconds=2, image_seconds=6, clip_seconds=12)  # the measurement
SWEEP = (Latencies(2, 3, 6), Latencies(2, 10, 30), Latencies(2, 30, 90))


def one_video(latencies: Latencies, topic: str, data_dir: Path) -> dict:
    """One job through the pipeline at these latencies: its wall and its checks of Runway."""
    # The fake has no usage tier: every task runs at once, and so may the Maps (a tier-1 account,
    # RUNWAY_CONCURRENCY=2, makes the images and clips in waves: a longer critical path).
    env = {"POWERTOOLS_LOG_LEVEL": "WARNING", "LOCAL_DATA_DIR": str(data_dir), "RUNWAY_CONCURRENCY": "10"}
    with running_fakes(latencies) as fakes, LocalPipeline(data_dir=data_dir, env={**env, **fakes.env}) as pipeline:
        job = pipeline.start_job(topic)
        outcome = pipeline.wait(job.id, timeout=1800, interval=0.05)
        if outcome.execution_status != "SUCCEEDED":
            raise SystemExit(f"the execution ended {outcome.execution_status}: {outcome.job.error_message}")
        history = outcome.history
        return {
            "wall": event_seconds(history[-1]) - event_seconds(history[0]),
            "transitions": sum(e["type"].endswith("StateEntered") for e in history),
            "task_polls": len(fakes.runway.calls("GET /v1/tasks/*")),
        }


def measure(latencies: Latencies, runs: int, topic: str, instant_wall: float) -> dict:
    """`runs` jobs in a fresh database: the first knows nothing of the models' pace, the later
    ones place their first checks from the earlier tasks (videobot.stages.vendor_tasks)."""
    data_dir = DATA / f"{latencies.image_seconds:g}-{latencies.clip_seconds:g}"
    shutil.rmtree(data_dir, ignore_errors=True)
    results = [one_video(latencies, topic, data_dir) for _ in range(runs)]
    critical = latencies.critical_path()
    return {
        "latencies": latencies,
        "critical_path": critical,
        "wall_instant": instant_wall,
        "runs": results,
        "ratios": [(r["wall"] - instant_wall) / critical for r in results],
    }


def report(points: list[dict]) -> str:
    lines = [
        f"{len(points[0]['runs'])} run(s) a point, each point in a fresh database; {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. With vendors that answer at once "
        f"the same pipeline took {points[0]['wall_instant']:.1f} s (the fixed work).",
        "",
        "| LLM / image / clip (s) | critical path | run | wall | added | **added / critical path** "
        "| transitions | task polls |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        lat = p["latencies"]
        for n, (r, ratio) in enumerate(zip(p["runs"], p["ratios"], strict=True)):
            lines.append(
                f"| {lat.llm_seconds:g} / {lat.image_seconds:g} / {lat.clip_seconds:g} "
                f"| {p['critical_path']:.0f} s | {'first' if n == 0 else 'learned'} | {r['wall']:.1f} s "
                f"| {r['wall'] - p['wall_instant']:.1f} s | **{ratio:.2f}** (target ≤ 1.3) "
                f"| {r['transitions']} | {r['task_polls']} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--topic", default="Реклама кофе")
    parser.add_argument("--sweep", action="store_true", help="also run at each vendor speed of SWEEP")
    args = parser.parse_args()
    logger.setLevel("WARNING")  # the stages' INFO lines would bury the table
    instant_dir = DATA / "instant"
    shutil.rmtree(instant_dir, ignore_errors=True)
    instant = statistics.median(one_video(Latencies(), args.topic, instant_dir)["wall"] for _ in range(args.runs))
    points = [measure(POINT, args.runs, args.topic, instant)]
    for latencies in SWEEP if args.sweep else ():
        points.append(measure(latencies, args.runs, args.topic, instant))
        print(report(points), file=sys.stderr)
    print(report(points))


if __name__ == "__main__":
    main()
