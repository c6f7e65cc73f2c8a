"""How fast is one video, and what does it cost?

Runs the real state machine offline (moto's interpreter, the stage handlers in-process)
with offline vendors that take the seed's vendor times, multiplied by --scale, and
approvals given the moment each gate opens. For every run it reports:

- wall: the execution's start to its end;
- the critical path: the longest chain of simulated vendor calls the dependencies allow
  (script -> image prompts -> segment 0's image -> the slowest of images 1-9, which use it as
  their reference -> animation prompts -> the slowest clip; the voice-over runs beside it)
  plus the assembly as measured;
- the seed's sequential sum: every simulated call one after another (21 LLM calls, 10
  images, 10 clips, one TTS call) plus the same assembly;
- state transitions and Lambda invocations from the execution history, and the cost of one
  video from AWS list prices plus vendor usage (bench/pipeline/prices.py).

    make bench-pipeline                      # scale 0.5, 3 runs
    .venv/bin/python -m bench.pipeline.run --scale 1 --runs 1
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
from collections import Counter
from pathlib import Path

from bench.pipeline import prices
from local import template as tpl
from local.runner import LocalPipeline
from videobot.config import SEGMENT_COUNT
from videobot.observability import logger
from videobot.providers import offline
from videobot.providers.offline import segment_speech_seconds, vendor_seconds

ROOT = Path(__file__).resolve().parents[2]

SEGMENTS = SEGMENT_COUNT
SIMULATED_STAGES = {  # stage handler -> its simulated vendor time at scale 1 (Lambda billing)
    "GenerateScriptFunction": lambda: vendor_seconds("script"),
    "WriteImagePromptsFunction": lambda: vendor_seconds("prompts", "image"),
    "WriteAnimationPromptsFunction": lambda: vendor_seconds("prompts", "animation"),
    "RecordVoiceoverFunction": lambda: SEGMENTS * segment_speech_seconds(),
}


def model(scale: float, assembly: float) -> dict:
    """The critical path and the seed's sequential sum, in seconds at this scale."""
    images = [vendor_seconds("image", i) for i in range(SEGMENTS)]
    clips = [vendor_seconds("clip", i) for i in range(SEGMENTS)]
    visuals = (
        vendor_seconds("prompts", "image")
        + images[0]
        + max(images[1:])
        + vendor_seconds("prompts", "animation")
        + max(clips)
    )
    voice = SEGMENTS * segment_speech_seconds()
    critical = (vendor_seconds("script") + max(visuals, voice)) * scale + assembly
    sequential = (
        vendor_seconds("script")
        + sum(vendor_seconds("image_prompt", i) for i in range(SEGMENTS))
        + sum(images)
        + sum(vendor_seconds("animation_prompt", i) for i in range(SEGMENTS))
        + sum(clips)
        + vendor_seconds("speech")
    ) * scale + assembly
    return {"critical_path": critical, "sequential": sequential}


def event_seconds(event: dict) -> float:
    ts = event["timestamp"]
    return ts.timestamp() if hasattr(ts, "timestamp") else float(ts)


def analyse(
    history: list[dict], scale: float, memory: dict[str, int], arns: dict[str, str], children: list[list[dict]] = ()
) -> dict:
    """Figures of one execution from its history, with its child executions' (each segment's
    image or clip: they are billed too)."""
    start, end = event_seconds(history[0]), event_seconds(history[-1])
    everything = [history, *children]
    entered = [e for h in everything for e in h if e["type"].endswith("StateEntered")]
    gate_time, assembly = _state_times(history)
    return {
        "wall": end - start,
        "gates": gate_time,
        "assembly": assembly,
        "transitions": len(entered),
        "transitions_by_state": dict(Counter(e["stateEnteredEventDetails"]["name"] for e in entered)),
        "child_executions": len(children),
        "lambda_invocations": sum(1 for h in everything for e in h if e["type"] == "TaskScheduled")
        - sum(1 for e in history if _child_execution(e)),
        "lambda_gb_seconds": sum(_gb_seconds(h, scale, memory, arns) for h in everything),
    }


def _child_execution(event: dict) -> bool:
    return event["type"] == "TaskScheduled" and "startExecution" in event["taskScheduledEventDetails"]["resource"]


def _state_times(history: list[dict]) -> tuple[float, float]:
    """The time spent waiting at the gates (the Await* states), and in AssembleVideo."""
    gate_time, assembly = 0.0, 0.0
    open_states: dict[str, float] = {}
    for e in history:
        details = e.get("stateEnteredEventDetails") or e.get("stateExitedEventDetails")
        if not details:
            continue
        name = details["name"]
        if e["type"].endswith("StateEntered"):
            open_states[name] = event_seconds(e)
        elif name in open_states:
            took = event_seconds(e) - open_states.pop(name)
            if name.startswith("Await"):
                gate_time += took
            if name == "AssembleVideo":
                assembly = took
    return gate_time, assembly


def _gb_seconds(history: list[dict], scale: float, memory: dict[str, int], arns: dict[str, str]) -> float:
    """Lambda GB-seconds: each Lambda task from scheduled to its result, at its memory."""
    by_id = {e["id"]: e for e in history}
    gb_seconds = 0.0
    for e in history:
        if e["type"] not in ("TaskSucceeded", "TaskFailed"):
            continue
        sched = by_id.get(e.get("previousEventId"))
        while sched is not None and sched["type"] != "TaskScheduled":
            sched = by_id.get(sched.get("previousEventId"))
        if sched is None:
            continue
        params = json.loads(sched["taskScheduledEventDetails"]["parameters"])
        if "FunctionName" not in params:  # a child execution: its own history holds its Lambdas
            continue
        function = arns.get(params["FunctionName"], "")
        if "waitForTaskToken" in sched["taskScheduledEventDetails"].get("resource", ""):
            took = 0.2  # the gate's Lambda only stores the token and sends the question
        else:
            took = event_seconds(e) - event_seconds(sched)
        if function in SIMULATED_STAGES:
            took += SIMULATED_STAGES[function]() * (1 - scale)  # billed at real vendor time
        gb_seconds += max(took, 0.001) * memory.get(function, 512) / 1024
    return gb_seconds


def scaled_vendors(scale: float) -> dict[str, str]:
    """The settings of offline vendors at `scale` x the seed's times, polled as deployed."""
    return {
        "OFFLINE_LATENCY_SCALE": str(scale),
        # The polling schedule as deployed (2 s, then 15% of a task's age); the caps on the
        # learned first wait shrink with the simulated vendors (Wait takes whole seconds).
        "POLL_INTERVAL_SECONDS": "2",
        "IMAGE_FIRST_POLL_SECONDS": str(max(1, math.ceil(30 * scale))),
        "CLIP_FIRST_POLL_SECONDS": str(max(1, math.ceil(90 * scale))),
    }


def run(scale: float, runs: int, topic: str) -> dict:
    env = {
        **scaled_vendors(scale),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "LOCAL_DATA_DIR": str(ROOT / ".local" / "bench-pipeline"),
    }
    template = tpl.load_template()
    memory = {
        name: int(res.get("Properties", {}).get("MemorySize") or template["Globals"]["Function"].get("MemorySize", 128))
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    }
    results = []
    with LocalPipeline(data_dir=env["LOCAL_DATA_DIR"], env=env) as pipeline:
        arns = {tpl.function_arn(name): name for name in memory}
        for n in range(runs):
            job = pipeline.start_job(topic)
            outcome = pipeline.wait(job["id"], timeout=1800, interval=0.05)
            if outcome.execution_status != "SUCCEEDED":
                raise SystemExit(f"run {n + 1}: the execution ended {outcome.execution_status}")
            figures = analyse(outcome.history, scale, memory, arns, outcome.children)
            figures.update(model(scale, figures["assembly"]))
            results.append(figures)
            print(
                f"run {n + 1}: wall {figures['wall']:.1f} s, critical path {figures['critical_path']:.1f} s, "
                f"sequential {figures['sequential']:.1f} s, {figures['transitions']} transitions",
                file=sys.stderr,
            )
    median = {key: statistics.median(r[key] for r in results) for key in results[0] if key != "transitions_by_state"}
    median["wall_over_critical"] = median["wall"] / median["critical_path"]
    median["sequential_over_wall"] = median["sequential"] / median["wall"]
    median["cost"] = prices.cost_per_video(
        transitions=median["transitions"],
        invocations=median["lambda_invocations"],
        gb_seconds=median["lambda_gb_seconds"],
    )
    return {
        "scale": scale,
        "runs": runs,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "median": median,
        "runs_detail": results,
    }


def report(result: dict) -> str:
    m, s = result["median"], result["scale"]
    cost = m["cost"]

    def real(seconds: float) -> str:  # the vendor part at real speed, the assembly as measured
        return f"≈ {(seconds - m['assembly']) / s + m['assembly']:.0f} s"

    lines = [
        f"Scale {s} (every simulated vendor call takes {s} x the seed's time), {result['runs']} runs, "
        f"medians; {result['machine']}.",
        "",
        "| figure | value | at real vendor times |",
        "|---|---|---|",
        f"| wall per video | {m['wall']:.1f} s | {real(m['wall'])} |",
        f"| critical path (simulated calls + measured assembly) | {m['critical_path']:.1f} s "
        f"| {real(m['critical_path'])} |",
        f"| **wall / critical path** | **{m['wall_over_critical']:.2f}** (target ≤ 1.3) | |",
        f"| the seed's sequential sum | {m['sequential']:.1f} s | {real(m['sequential'])} |",
        f"| **sequential / wall** | **{m['sequential_over_wall']:.1f}×** | |",
        f"| of which approvals (instant, by the runner) | {m['gates']:.1f} s | |",
        f"| assembly (measured, not scaled) | {m['assembly']:.1f} s | |",
        f"| state transitions per video | {m['transitions']:.0f} (target ≤ 250) | |",
        f"| Lambda invocations per video | {m['lambda_invocations']:.0f} | |",
        "",
        "Cost of one video (list prices in bench/pipeline/prices.py):",
        "",
        "| item | USD |",
        "|---|---|",
        *[f"| {name} | {value:.4f} |" for name, value in cost["items"].items()],
        f"| **total** | **{cost['total']:.2f}** |",
    ]
    return "\n".join(lines)


# Vendor speeds of the sweep: (image, clip) seconds at scale 1, every task of a kind alike.
SWEEP = ((3, 6), (10, 30), (30, 90))


def sweep(scale: float, runs: int, topic: str) -> list[dict]:
    """The pipeline at each vendor speed of SWEEP: what it adds over the critical path, and the
    state transitions it takes. The added time is measured against the same pipeline with
    vendors that answer at once (scale 0), which does the same fixed work (the offline vendors'
    renders, the clip preparations, the interpreter): what is left is what the vendors' time
    costs the user."""
    seed_times = dict(offline.VENDOR_SECONDS)
    instant = run(0, runs, topic)["median"]["wall"]
    points = []
    try:
        for image_s, clip_s in SWEEP:
            offline.VENDOR_SECONDS.update(image=(image_s, image_s), clip=(clip_s, clip_s))
            result = run(scale, runs, topic)
            m = result["median"]
            m["vendor_path"] = m["critical_path"] - m["assembly"]
            m["added"] = m["wall"] - instant
            m["added_over_vendor_path"] = m["added"] / m["vendor_path"]
            points.append({"image_seconds": image_s, "clip_seconds": clip_s, "wall_instant": instant, **result})
    finally:
        offline.VENDOR_SECONDS.clear()
        offline.VENDOR_SECONDS.update(seed_times)
    return points


def sweep_report(points: list[dict]) -> str:
    lines = [
        f"Sweep over vendor speed, scale {points[0]['scale']}, {points[0]['runs']} run(s) a point, medians; "
        f"{points[0]['machine']}. The same pipeline with instant vendors took "
        f"{points[0]['wall_instant']:.1f} s.",
        "",
        "| images / clips (s, at scale 1) | vendors' critical path | wall | added over instant vendors "
        "| **added / critical path** | transitions |",
        "|---|---|---|---|---|---|",
    ]
    for p in points:
        m = p["median"]
        lines.append(
            f"| {p['image_seconds']} / {p['clip_seconds']} | {m['vendor_path']:.1f} s | {m['wall']:.1f} s "
            f"| {m['added']:.1f} s | **{m['added_over_vendor_path']:.2f}** (target ≤ 1.3) "
            f"| {m['transitions']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--topic", default="Реклама кофе")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--sweep", action="store_true", help="run at each vendor speed of SWEEP")
    args = parser.parse_args()
    logger.setLevel("WARNING")  # the stages' INFO lines would bury the table
    if args.sweep:
        points = sweep(args.scale, args.runs, args.topic)
        if args.json:
            args.json.write_text(json.dumps(points, indent=2))
        print(sweep_report(points))
        return
    result = run(args.scale, args.runs, args.topic)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(report(result))


if __name__ == "__main__":
    main()
