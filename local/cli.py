"""`python -m local demo|migrate|queries`: the local runner's command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local import load_dotenv_file
from local.runner import LocalPipeline, execution_events
from local.sheet import gate_sheet, open_in_viewer
from videobot import runtime
from videobot.data.db import Database
from videobot.data.rows import Gate, Job
from videobot.runtime import Runtime

DEMO_LOG = "demo.log"  # under the data folder (.local/): the demo's structured logs

SEED_QUERY_JOBS = """SELECT id, status, created_at, completed_at
FROM ai_video_bot.video_jobs_enhanced
ORDER BY created_at DESC
LIMIT 10;"""

SEED_QUERY_SEGMENTS = """SELECT
    segment_index,
    CASE WHEN image_prompt IS NOT NULL THEN '✅' ELSE '⏳' END as img_prompt,
    CASE WHEN image_path IS NOT NULL THEN '✅' ELSE '⏳' END as image,
    CASE WHEN animation_prompt IS NOT NULL THEN '✅' ELSE '⏳' END as anim_prompt,
    CASE WHEN video_path IS NOT NULL THEN '✅' ELSE '⏳' END as video,
    status
FROM ai_video_bot.video_segments_enhanced
WHERE job_id = 'abc-123'
ORDER BY segment_index;"""


class Progress:
    """A tqdm bar per stage, and per segment count, fed from the job's rows."""

    STAGES = [
        ("script", "Сценарий", 1),
        ("image_prompts", "Промпты изображений", 10),
        ("images", "Изображения", 10),
        ("animation_prompts", "Промпты анимации", 10),
        ("videos", "Видео", 10),
        ("narrations", "Озвучка", 10),
        ("final", "Сборка", 1),
    ]

    def __init__(self, db: Database, enabled: bool = True):
        self.db, self.enabled = db, enabled
        self.bars: dict[str, Any] = {}  # tqdm's bars

    def __call__(self, job: Job) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        from videobot.data import segments as segment_rows

        counts = dict(segment_rows.segment_counts(self.db, job.id))
        counts["script"] = 1 if job.script_text else 0
        counts["final"] = 1 if job.final_video_path else 0
        for key, label, total in self.STAGES:
            value = counts.get(key, 0)
            bar = self.bars.get(key)
            if bar is None and (value or key == "script"):
                bar = self.bars[key] = tqdm(
                    total=total,
                    desc=f"{label:<20}",
                    position=len(self.bars),
                    bar_format="{desc} {bar:30} {n_fmt}/{total_fmt}",
                    leave=True,
                )
            if bar is not None and value > bar.n:
                bar.update(value - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        if self.bars:
            print()


class DemoLogs:
    """Where the demo's logs go: every structured line (the stages' Powertools logs, and other
    libraries' warnings) to one file under the data folder, never between the progress bars and
    the questions; the functions' worker processes append theirs to the same file
    (LocalPipeline's `worker_log`). LOG_LEVEL=INFO (or DEBUG, WARNING) shows the file's lines at
    that level or above on the terminal too, whichever process wrote them, above the bars; while a
    question waits for its answer they are held, and shown after it."""

    FOLLOW_SECONDS = 0.2  # how often the file is read for new lines to show

    def __init__(self, path: Path, terminal_level: str | None = None):
        level = (terminal_level or "").upper()
        self.path = path
        self.terminal_level = level if level in logging.getLevelNamesMapping() else None
        self._held: list[str] | None = None
        self._hold_lock = threading.Lock()
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None

    def __enter__(self) -> DemoLogs:
        from videobot.observability import SERVICE, logger

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("", encoding="utf-8")
        # appended to, line by line: the functions' worker processes append their lines too
        self._file = self.path.open("a", encoding="utf-8", buffering=1)
        level = logging.DEBUG if self.terminal_level == "DEBUG" else logging.INFO
        service = logger.registered_handler  # Powertools' own handler: its JSON lines go to the file
        assert isinstance(service, logging.StreamHandler), service
        self._saved = (service, service.setStream(self._file), logger.log_level, logging.getLogger().level)
        logger.setLevel(level)
        self._others = logging.StreamHandler(self._file)  # other loggers' lines (the service's come above)
        self._others.setFormatter(service.formatter)
        self._others.addFilter(lambda record: record.name != SERVICE)
        root = logging.getLogger()
        root.addHandler(self._others)
        root.setLevel(min(root.level, logging.getLevelNamesMapping()[self.terminal_level or "WARNING"]))
        logging.captureWarnings(True)  # a library's warning is a log line too
        if self.terminal_level:
            self._follower = threading.Thread(target=self._follow, name="demo-logs", daemon=True)
            self._follower.start()
        return self

    def __exit__(self, *exc) -> None:
        from videobot.observability import logger

        service, stream, level, root_level = self._saved
        self._stop.set()
        if self._follower is not None:
            self._follower.join()  # it shows what is left in the file first
        self.release()
        logging.captureWarnings(False)
        root = logging.getLogger()
        root.removeHandler(self._others)
        root.setLevel(root_level)
        service.setStream(stream)
        logger.setLevel(level)
        self._file.close()

    def _follow(self) -> None:
        """Show the file's new lines as they come (this process's and the workers'), to the end."""
        threshold = logging.getLevelNamesMapping()[self.terminal_level or "WARNING"]
        with self.path.open(encoding="utf-8") as file:
            partial = ""
            while True:
                stopping = self._stop.is_set()  # read once more after the stop: nothing is left behind
                for line in file.readlines():
                    partial += line
                    if partial.endswith("\n"):
                        if _level_of(partial) >= threshold:
                            self.show(partial.rstrip("\n"))
                        partial = ""
                if stopping:
                    return
                self._stop.wait(self.FOLLOW_SECONDS)

    @contextmanager
    def holding(self):
        """A question is on the terminal: the log lines wait until it is answered."""
        with self._hold_lock:
            self._held = []
        try:
            yield
        finally:
            self.release()

    def release(self) -> None:
        with self._hold_lock:
            held, self._held = self._held or [], None
        for line in held:
            _above_the_bars(line)

    def show(self, line: str) -> None:
        with self._hold_lock:
            if self._held is not None:
                self._held.append(line)
                return
        _above_the_bars(line)


def _level_of(line: str) -> int:
    """A structured line's level; a line that is not one (a worker's traceback) counts as an error."""
    try:
        return logging.getLevelNamesMapping().get(str(json.loads(line).get("level", "")).upper(), logging.ERROR)
    except (ValueError, AttributeError):
        return logging.ERROR


def _above_the_bars(line: str) -> None:
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


class Approver:
    """INTERACTIVE=1: show what is being approved and ask. The script is printed; the images and
    the clips are one contact sheet (a PNG, numbered 1-10), opened with --open / OPEN=1."""

    def __init__(self, rt: Runtime, logs: DemoLogs, sheets: Path, open_sheets: bool = False):
        self.rt, self.logs, self.sheets, self.open_sheets = rt, logs, sheets, open_sheets

    def __call__(self, job: Job, gate: Gate) -> bool:
        from videobot.data import segments as segment_rows
        from videobot.pipeline import media_kind

        with self.logs.holding():
            print(f"\n\n=== Approval: {gate.stage} (job {job.id}) ===")
            if gate.stage == "script":
                for i, text in enumerate(job.segment_texts):
                    print(f"  {i + 1:2d}. {text}")
            else:
                kind = media_kind(gate.stage)
                name = kind.folder  # "images", "clips"
                segments = segment_rows.get_segments(self.rt.db, job.id)
                sheet = gate_sheet(
                    self.rt.storage,
                    segments,
                    kind,
                    self.sheets / f"{job.id}-{name}-{gate.revisions}.png",
                    f"{name} · job {job.id} · {job.prompt[:60]}",
                )
                print(f"  Contact sheet ({name} 1-{len(segments)}): {shown_path(sheet)}")
                if self.open_sheets:
                    problem = open_in_viewer(sheet)
                    if problem:
                        print(f"  (not opened: {problem}; open the file yourself)")
            while True:
                answer = input("Approve? [y]es / [n]o (reject): ").strip().lower()
                if answer in ("y", "yes", "д", "да", ""):
                    return True
                if answer in ("n", "no", "н", "нет"):
                    return False


def shown_path(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def demo(args: argparse.Namespace) -> int:
    env = {"POLL_INTERVAL_SECONDS": os.environ.get("POLL_INTERVAL_SECONDS", "1")}
    logging.getLogger("botocore").setLevel(logging.WARNING)
    pipeline = LocalPipeline(env=env, workers=not args.in_process)
    pipeline.worker_log = pipeline.data_dir / DEMO_LOG  # the functions' workers write there too
    with DemoLogs(pipeline.worker_log, os.environ.get("LOG_LEVEL")) as logs:
        print(f"Logs: {shown_path(logs.path)} (LOG_LEVEL=INFO shows them here too)")
        with pipeline:
            return run_demo(pipeline, args, logs)


def run_demo(pipeline: LocalPipeline, args: argparse.Namespace, logs: DemoLogs) -> int:
    """One job through the running pipeline: progress bars, the questions (with --interactive),
    then the result."""
    started = time.monotonic()
    rt = pipeline.runtime
    if args.job_id:
        from videobot import storage
        from videobot.data import jobs

        if jobs.find_job(rt.db, args.job_id):  # a rerun of the demo with a fixed id replaces it
            rt.storage.delete_prefix(storage.job_prefix(args.job_id))
            jobs.delete_job(rt.db, args.job_id)
    job = pipeline.start_job(args.topic, aspect_ratio=args.ratio, job_id=args.job_id)
    print(f"✅ Запрос принят! ID: {job.id}  (topic: {args.topic!r})")
    progress = Progress(rt.db, enabled=not args.quiet)
    decide = Approver(rt, logs, pipeline.data_dir / "contact-sheets", args.open) if args.interactive else None
    try:
        outcome = pipeline.wait(job.id, decide or (lambda j, g: True), timeout=args.timeout, on_tick=progress)
    finally:
        progress.close()
    job = outcome.job
    print(f"Job {job.id}: {job.status} (execution {outcome.execution_status}) in {time.monotonic() - started:.1f} s")
    if args.verbose:
        print(" → ".join(dict.fromkeys(execution_events(outcome))))
    denied = pipeline.policy_check.denied()
    for call in denied:
        print(f"AccessDenied: {call.principal} may not {call.action} on {call.resource}")
    if job.status != "completed" or denied:
        print(f"Reason: {job.error_message or 'a call the template does not allow (docs/deploy.md)'}")
        return 1
    store, key = rt.storage, job.final_video_path or ""
    path = store.local_path(key) or store.url(key)
    print(f"Final video: {job.final_video_duration:.1f} s, {job.final_video_size_mb:.2f} MB")
    print(f"MP4: {path}")
    from videobot import usage

    spent = usage.summary(rt.db, job.id)
    print(
        f"Vendor usage: {spent['llm_calls']} LLM calls ({spent['llm_input_tokens']} in, "
        f"{spent['llm_output_tokens']} out tokens), {spent['tts_characters']} TTS characters, "
        f"{spent['runway_credits']:.0f} Runway credits: about ${spent['estimated_usd']:.2f}"
    )
    if args.job_id:
        print_seed_queries(rt.db, args.job_id)
    return 0


def print_seed_queries(db: Database, job_id: str) -> None:
    """The seed's two monitoring queries, verbatim (the second names job 'abc-123')."""
    for sql in (SEED_QUERY_JOBS, SEED_QUERY_SEGMENTS):
        rows = db.query(sql)
        print("\n" + sql)
        if rows:
            print(" | ".join(rows[0]))
            for row in rows:
                print(" | ".join(str(v) for v in row.values()))
        else:
            print("(no rows)")


def migrate(args: argparse.Namespace) -> int:
    if os.environ.get("DATABASE_URL"):
        from videobot.migrate import migrate as run

        print("applied:", run(runtime.from_environment().db) or "nothing new")
        return 0
    with LocalPipeline():
        print("migrations applied to the embedded PostgreSQL")
    return 0


def main(argv: list[str] | None = None) -> int:
    load_dotenv_file()
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="make one video offline, approving each gate")
    p.add_argument("--topic", default="Реклама кофе")
    p.add_argument("--ratio", choices=["16:9", "9:16"], default=None)
    p.add_argument("--interactive", action="store_true", help="ask Approve/Reject at each gate")
    p.add_argument(
        "--open",
        action="store_true",
        default=os.environ.get("OPEN", "").lower() in ("1", "true", "yes"),
        help="with --interactive, open each gate's contact sheet in the system viewer (also OPEN=1)",
    )
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--verbose", action="store_true", help="print the states the execution went through")
    p.add_argument(
        "--in-process",
        action="store_true",
        help="run every function in this process instead of warm worker processes per function",
    )
    p.add_argument(
        "--job-id",
        default=None,
        help="use this job id (e.g. abc-123, which the seed's segment query names) and print "
        "the seed's two monitoring queries at the end",
    )
    p.set_defaults(fn=demo)
    p = sub.add_parser("migrate", help="apply the SQL migrations")
    p.set_defaults(fn=migrate)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
