"""Small builders shared by the tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from videobot.data import jobs
from videobot.pipeline import GateId, GateStage

_counter = iter(range(1, 10**9))


def new_job(db, prompt: str = "Реклама кофе", **kwargs) -> dict:
    job, created = jobs.create_job(
        db,
        user_id=kwargs.pop("user_id", 5_000_000_001),
        chat_id=kwargs.pop("chat_id", 5_000_000_001),
        prompt=prompt,
        **kwargs,
    )
    assert created
    return job


def job_at_gate(db, user, stage: str, revisions: int = 0) -> dict:
    """A job of `user` waiting at the gate `stage`, after `revisions` rounds of feedback."""
    from videobot.data import gates

    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(db, job["id"], status=GateStage(stage).awaiting)
    gates.open_gate(db, job["id"], GateId.parse(stage), "token-" + job["id"])
    db.execute(f"UPDATE {gates.GATES} SET revisions = %s WHERE job_id = %s", (revisions, job["id"]))
    return job


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


def with_media(rt, db, job: dict) -> dict:
    """The job's ten segments, each with its prompts, an image and a clip (stand-in bytes, told
    apart by their last byte)."""
    from videobot import storage
    from videobot.data import segments

    segments.create_segments(db, job["id"], [f"Часть {i}" for i in range(10)], 5.0)
    for i in range(10):
        image = rt.storage.put_bytes(storage.segment_key(job["id"], "images", i, "png"), PNG + bytes([i]))
        clip = rt.storage.put_bytes(storage.segment_key(job["id"], "clips", i, "mp4"), MP4 + bytes([i]))
        segments.update_segment(
            db,
            job["id"],
            i,
            image_prompt="p",
            image_path=image,
            animation_prompt="a",
            video_path=clip,
            status="video_ready",
        )
    return job


class StartingStepFunctions:
    """A Step Functions client whose executions start and do nothing (the webhook alone is tested)."""

    def start_execution(self, **kwargs):
        return {"executionArn": f"arn:aws:states:us-east-1:123456789012:execution:vp:{kwargs['name']}"}


class PricedImages:
    """gen4_image's price (5 credits, $0.05 an image), so a quoted cost is a real figure."""

    def estimate(self, request) -> dict:
        return {"vendor": "runway", "model": "gen4_image", "seconds": 0, "credits": 5}


class PricedClips:
    """gen4_turbo's price (5 credits a second, $0.25 a 5-second clip)."""

    def estimate(self, request) -> dict:
        return {"vendor": "runway", "model": "gen4_turbo", "seconds": request.duration, "credits": 5 * request.duration}


class StubTasks:
    """A vendor task API that costs nothing and is never fetched from: the base of the tests'
    scripted vendors (they add submit and get_task)."""

    def cancel(self, task_id):
        pass

    def estimate(self, request):
        return {"vendor": "stub", "model": "stub", "seconds": 0, "credits": 0}

    def fetch_output(self, url):
        raise AssertionError("never fetched")


class EndlessImages(StubTasks):
    """Images that never finish: each segment's child polls until stopped."""

    def submit(self, request):
        return "endless-task"

    def get_task(self, task_id):
        from videobot.providers import base

        return base.TaskState("RUNNING", progress=0.5)


class RefusingImages(StubTasks):
    """Every image refused by moderation."""

    def submit(self, request):
        return "refused-task"

    def get_task(self, task_id):
        from videobot.providers import base

        return base.TaskState("FAILED", failure="nope", failure_code="SAFETY.INPUT.IMAGE")


def replace_part(monkeypatch, rt, name: str, value) -> None:
    """Replace one part of a runtime the test holds (sfn, images, clips, speech, llm, ...) for
    the rest of the test; a runtime derived from it (`with_env`, `use`) keeps the replacement
    (monkeypatch puts the built one, if any, back afterwards)."""
    monkeypatch.setitem(rt.__dict__, name, value)
    monkeypatch.setitem(rt.given_parts, name, value)


def lose_the_connection(db) -> None:
    """A stage's PostgreSQL connection is terminated under it (a failover, a network cut): the
    query on it fails, and DatabaseUnavailable goes to the state machine, which retries the stage."""
    import psycopg2

    with db.connect() as conn, conn.cursor() as cur:
        killer = psycopg2.connect(db.url)
        killer.autocommit = True
        with killer.cursor() as k:
            k.execute("SELECT pg_terminate_backend(%s)", (conn.get_backend_pid(),))
        killer.close()
        cur.execute("SELECT 1")


@contextmanager
def use(setup: Setup, **env: str | None) -> Iterator:
    """The test's runtime with some settings changed, for a block; code reached through the
    test's fixtures (the webhook poster, the slow worker) is given it too."""
    previous = setup.rt
    setup.rt = previous.with_env(**env)
    try:
        yield setup.rt
    finally:
        setup.rt = previous


# The fixtures that configure a test's runtime (tests/conftest.py `rt` sets them up first).
CONFIGURING = ("openai_env", "runway_env", "telegram", "sfn", "slow_worker")


@dataclass
class Setup:
    """What a test's configuring fixtures contribute to its runtime before it is built: settings
    by environment name, and parts given instead of built. `rt` is the runtime, once built."""

    env: dict[str, str] = field(default_factory=dict)
    parts: dict[str, object] = field(default_factory=dict)
    rt: object = None


def offered(rt) -> dict:
    """The choices the running bot offers in /settings (preferences.choose's voices and models)."""
    return {"voices": rt.speech_voices(), "video_models": rt.settings.runway.video_model_choices}


def record_paid(
    db,
    job_id: str | None,
    usd: float,
    *,
    stage: str = "generate_clips",
    vendor: str = "runway",
    model: str = "gen4_turbo",
    task_id: str | None = None,
    user_id: int | None = None,
    **units,
) -> str:
    """A paid call already made and settled at `usd`, through the ledger (no budgets checked):
    a job's history for a test. Returns its ledger key."""
    import uuid as _uuid

    from videobot.data import ledger

    key = f"test:{_uuid.uuid4().hex}"
    call = ledger.Call(key, job_id, stage, vendor, model, usd, user_id=user_id)
    ledger.reserve(db, [call], ledger.Budgets())
    if task_id:
        ledger.attach_task(db, key, task_id)
    ledger.settle(db, key, usd, **units)
    return key
