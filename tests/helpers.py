"""Small builders shared by the tests."""

from __future__ import annotations

from videobot.data import jobs

_counter = iter(range(1, 10**9))


def new_job(prompt: str = "Реклама кофе", **kwargs) -> dict:
    job, created = jobs.create_job(
        user_id=kwargs.pop("user_id", 5_000_000_001),
        chat_id=kwargs.pop("chat_id", 5_000_000_001),
        prompt=prompt,
        **kwargs,
    )
    assert created
    return job


def job_at_gate(user, stage: str, revisions: int = 0) -> dict:
    """A job of `user` waiting at the gate `stage`, after `revisions` rounds of feedback."""
    from videobot.data import db, gates

    job = new_job("Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(job["id"], status=jobs.AWAITING_STATUS[stage])
    gates.open_gate(job["id"], stage, "token-" + job["id"])
    db.execute(f"UPDATE {gates.GATES} SET revisions = %s WHERE job_id = %s", (revisions, job["id"]))
    return job


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


def with_media(job: dict) -> dict:
    """The job's ten segments, each with its prompts, an image and a clip (stand-in bytes, told
    apart by their last byte)."""
    from videobot import runtime, storage
    from videobot.data import segments

    segments.create_segments(job["id"], [f"Часть {i}" for i in range(10)], 5.0)
    store = runtime.current().storage
    for i in range(10):
        image = store.put_bytes(storage.segment_key(job["id"], "images", i, "png"), PNG + bytes([i]))
        clip = store.put_bytes(storage.segment_key(job["id"], "clips", i, "mp4"), MP4 + bytes([i]))
        segments.update_segment(
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


class StubTasks:
    """A vendor task API that costs nothing and is never fetched from: the base of the tests'
    scripted vendors (they add submit and get_task)."""

    def cancel(self, task_id):
        pass

    def estimate(self, request):
        return {"vendor": "stub", "model": "stub", "seconds": 0, "credits": 0}

    def fetch_output(self, url):
        raise AssertionError("never fetched")


class RefusingImages(StubTasks):
    """Every image refused by moderation."""

    def submit(self, request):
        return "refused-task"

    def get_task(self, task_id):
        from videobot.providers import base

        return base.TaskState("FAILED", failure="nope", failure_code="SAFETY.INPUT.IMAGE")


def replace_part(monkeypatch, name: str, value) -> None:
    """Replace one part of the runtime (sfn, images, clips, speech, llm, ...) for one test,
    surviving runtime.reset() (monkeypatch restores it afterwards)."""
    from videobot import runtime

    monkeypatch.setattr(runtime.Runtime, name, value)
    monkeypatch.delitem(runtime.current().__dict__, name, raising=False)
