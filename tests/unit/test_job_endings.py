"""How a job ends without a video (videobot.lifecycle), stage by stage: what is stored (its
status, its reason, the notice its user is told, its gates) and what each path answers the state
machine, including the reconciler's answer to an execution that ended with its job unfinished."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.helpers import new_job, replace_part
from videobot import lifecycle, storage
from videobot.data import gates, jobs, segments
from videobot.data.db import NOW
from videobot.errors import JobCancelled
from videobot.notify import GateReady, SegmentRefused
from videobot.pipeline import IMAGE, GateId, GateStage, JobStatus, SegmentStatus


def _gate(db, job_id: str, stage: str, decision: str | None = None) -> None:
    gates.open_gate(db, job_id, GateId(stage), f"token-{job_id}-{stage}")
    if decision:
        gates.decide_gate(db, job_id, GateId(stage), decision)


@pytest.mark.parametrize(
    ("error", "details"),
    [
        ({"Error": "MediaError", "Cause": "ffmpeg exited 1"}, ("MediaError", "ffmpeg exited 1")),
        # a Lambda's error: its Cause is JSON naming the type and the message
        (
            {"Error": "Lambda.Unknown", "Cause": json.dumps({"errorType": "VendorFailed", "errorMessage": "gone"})},
            ("VendorFailed", "gone"),
        ),
        (
            {"Error": "X", "Cause": json.dumps({"errorType": "", "errorMessage": ""})},
            ("X", '{"errorType": "", "errorMessage": ""}'),
        ),
        ({"Error": "X", "Cause": "[1, 2]"}, ("X", "[1, 2]")),  # JSON, but not an error's
        ({"Error": "X", "Cause": None}, ("X", "")),
        ({"Cause": "it broke"}, ("Unknown", "it broke")),
        (None, ("Unknown", "")),
        ({"Error": "X", "Cause": "é" * 1_500}, ("X", "é" * 1_000)),  # bounded for the row and the message
    ],
)
def test_a_catchs_error_gives_its_type_and_message(error, details):
    assert lifecycle.error_details(error) == details


def test_a_failure_is_stored_with_its_reason_told_once_and_its_gates_abandoned(rt, db):
    job_id = new_job(db)["id"]
    _gate(db, job_id, "script")
    assert lifecycle.record_failure(rt, job_id, {"Error": "MediaError", "Cause": "ffmpeg"}) == {
        "failed": True,
        "error_type": "MediaError",
        "fault": True,
    }
    job = jobs.get_job(db, job_id)
    assert (job.status, job.error_message) == (JobStatus.FAILED, "MediaError: ffmpeg")
    assert job.completed_at is not None and job.end_told_at is not None
    assert job.end_notice == {"outcome": "failed", "stage": "", "error_type": "MediaError", "reason": "ffmpeg"}
    assert gates.latest_gate(db, job_id).decision == "abandoned"
    # the Lambda retried: the same end, told once
    told = job.end_told_at
    assert lifecycle.record_failure(rt, job_id, {"Error": "MediaError", "Cause": "ffmpeg"})["failed"] is True
    assert jobs.get_job(db, job_id).end_told_at == told


@pytest.mark.parametrize("kind", sorted(lifecycle.NOT_A_FAULT))
def test_an_end_on_the_users_input_is_not_a_fault(rt, db, kind):
    job_id = new_job(db)["id"]
    assert lifecycle.record_failure(rt, job_id, {"Error": kind, "Cause": "x"}) == {
        "failed": True,
        "error_type": kind,
        "fault": False,
    }


def test_a_failure_after_another_end_leaves_that_end(rt, db):
    job_id = new_job(db)["id"]
    lifecycle.cancel_job(rt, job_id)
    assert lifecycle.record_failure(rt, job_id, {"Error": "MediaError"})["failed"] is False
    job = jobs.get_job(db, job_id)
    assert (job.status, job.error_message) == (JobStatus.CANCELLED, "cancelled by the user")
    assert job.end_notice == {"outcome": "cancelled", "stage": "", "error_type": "", "reason": ""}  # at no gate


def test_a_timeout_names_the_open_gate_else_the_last_one_else_none(rt, db):
    job_id = new_job(db)["id"]
    _gate(db, job_id, "script", "approved")
    _gate(db, job_id, "images")
    assert lifecycle.record_approval_timeout(rt, job_id) == {"timed_out": True, "stage": "images"}
    job = jobs.get_job(db, job_id)
    assert (job.status, job.error_message) == (JobStatus.TIMED_OUT, "no answer at the images approval in time")
    assert job.end_notice == {"outcome": "timed_out", "stage": "images", "error_type": "", "reason": ""}
    assert gates.get_gate(db, job_id, GateId("images")).decision == "timed_out"
    assert gates.get_gate(db, job_id, GateId("script")).decision == "approved"  # decided gates stay as they are
    assert job.end_told_at is not None

    # two refused segments paused at once: the one asked first is the open gate named
    paused = new_job(db)["id"]
    _refused(db, paused, made=set(), refused={3: None, 5: None})
    for segment in (3, 5):
        gates.open_gate(db, paused, GateId.refused(IMAGE, segment), f"token-{segment}")
    assert lifecycle.record_approval_timeout(rt, paused)["stage"] == "refused_image_3"

    nothing_open = new_job(db)["id"]
    assert lifecycle.record_approval_timeout(rt, nothing_open) == {"timed_out": True, "stage": ""}
    assert jobs.get_job(db, nothing_open).error_message == "no answer at the  approval in time"

    lifecycle.cancel_job(rt, ended := new_job(db)["id"])
    assert lifecycle.record_approval_timeout(rt, ended) == {"timed_out": False, "stage": ""}
    assert jobs.get_job(db, ended).status == JobStatus.CANCELLED


def test_a_reject_at_a_gate_cancels_naming_it_and_clears_the_job(rt, db):
    job_id = new_job(db)["id"]
    rt.storage.put_bytes(storage.job_key(job_id, "script.txt"), b"x")
    rt.storage.put_bytes(storage.job_key(job_id, "voice.mp3"), b"y")
    _gate(db, job_id, "script", "rejected")
    assert lifecycle.cancel_job(rt, job_id) == {"cancelled": True, "deleted_files": 2}
    job = jobs.get_job(db, job_id)
    assert (job.status, job.error_message, job.script_approved) == (
        JobStatus.CANCELLED,
        "rejected at the script approval",
        -1,
    )
    assert job.end_notice == {"outcome": "cancelled", "stage": "script", "error_type": "", "reason": ""}
    assert gates.latest_gate(db, job_id) is None  # its rows cleared
    assert job.end_told_at is not None

    images = new_job(db)["id"]
    _gate(db, images, "images", "rejected")
    lifecycle.cancel_job(rt, images)
    job = jobs.get_job(db, images)
    assert (job.error_message, job.script_approved, job.end_notice["stage"]) == (
        "rejected at the images approval",
        0,
        "images",
    )


def test_a_cancel_after_the_video_was_delivered_keeps_it(rt, db):
    job_id = new_job(db)["id"]
    final = rt.storage.put_bytes(storage.job_key(job_id, "final.mp4"), b"video")
    jobs.finish_job(db, job_id, JobStatus.COMPLETED, final_video_path=final)
    assert lifecycle.cancel_job(rt, job_id) == {"cancelled": False, "status": JobStatus.COMPLETED}
    assert rt.storage.get_bytes(final) == b"video" and jobs.get_job(db, job_id).final_video_path == final


def test_an_end_is_told_from_its_stored_notice_once(rt, db):
    job_id = new_job(db)["id"]
    assert lifecycle.tell_end(rt, jobs.get_job(db, job_id)) is False  # not ended: nothing to tell
    notice = {"outcome": "failed", "stage": "", "error_type": "MediaError", "reason": "x"}
    jobs.finish_job(db, job_id, JobStatus.FAILED, end_notice=json.dumps(notice))
    job = jobs.get_job(db, job_id)
    assert lifecycle.tell_end(rt, dataclasses.replace(job, end_notice=json.dumps(notice))) is True
    assert jobs.get_job(db, job_id).end_told_at is not None
    assert lifecycle.tell_end(rt, jobs.get_job(db, job_id)) is False  # told already


def _execution(job_id: str | None, status: str, **detail) -> dict:
    return {"name": job_id, "status": status, **detail}


@pytest.mark.parametrize(
    ("detail", "status", "reason"),
    [
        # stopped from the console: a cancel
        ({"status": "ABORTED"}, JobStatus.CANCELLED, "cancelled by the user"),
        # RecordApprovalTimeout itself failed
        ({"status": "FAILED", "error": "ApprovalTimedOut"}, JobStatus.TIMED_OUT, "no answer at the  approval in time"),
        ({"status": "TIMED_OUT"}, JobStatus.FAILED, "States.Timeout: the execution ran out of time"),
        (
            {"status": "FAILED", "error": "States.TaskFailed", "cause": "boom"},
            JobStatus.FAILED,
            "States.TaskFailed: boom",
        ),
        ({"status": "FAILED"}, JobStatus.FAILED, "States.Runtime: the execution failed"),
    ],
)
def test_an_execution_that_ended_with_its_job_unfinished_ends_the_job(rt, db, detail, status, reason):
    job_id = new_job(db)["id"]
    assert lifecycle.reconcile_execution(rt, _execution(job_id, **detail)) == {"reconciled": True, "status": status}
    job = jobs.get_job(db, job_id)
    assert (job.status, job.error_message, job.end_told_at is not None) == (status, reason, True)


def test_an_execution_that_failed_after_a_reject_cancels_its_job(rt, db):
    job_id = new_job(db)["id"]
    _gate(db, job_id, "videos", "rejected")
    assert lifecycle.reconcile_execution(rt, _execution(job_id, "FAILED")) == {
        "reconciled": True,
        "status": "cancelled",
    }
    assert jobs.get_job(db, job_id).error_message == "rejected at the videos approval"


def test_the_reconciler_leaves_what_is_not_a_jobs_ended_execution(rt, db):
    job_id = new_job(db)["id"]
    ignored = {"reconciled": False, "reason": "not a job's ended execution"}
    assert lifecycle.reconcile_execution(rt, _execution(job_id, "SUCCEEDED")) == ignored
    assert lifecycle.reconcile_execution(rt, _execution(job_id, "RUNNING")) == ignored
    assert lifecycle.reconcile_execution(rt, _execution(None, "FAILED")) == ignored
    assert lifecycle.reconcile_execution(rt, {"status": "FAILED"}) == ignored
    assert lifecycle.reconcile_execution(rt, _execution("job-that-is-not", "FAILED")) == ignored
    assert jobs.get_job(db, job_id).status == JobStatus.PENDING

    # a job that ended: it stays as it ended; told already, nothing more
    lifecycle.record_failure(rt, job_id, {"Error": "MediaError", "Cause": "x"})
    assert lifecycle.reconcile_execution(rt, _execution(job_id, "TIMED_OUT")) == {
        "reconciled": False,
        "status": JobStatus.FAILED,
        "told": False,
    }
    assert jobs.get_job(db, job_id).error_message == "MediaError: x"


# ---- what a gate asks, and asking it -------------------------------------------------------


def _refused(db, job_id: str, made: set[int], refused: dict[int, str | None]) -> None:
    """The job's ten segments: `made` have their image, `refused` failed with their code."""
    segments.create_segments(db, job_id, [f"Часть {i}" for i in range(10)], 5.0)
    for i in range(10):
        fields = {"image_prompt": f"prompt {i}"}
        if i in made:
            fields |= {"image_path": f"jobs/{job_id}/images/{i}.png", "status": SegmentStatus.IMAGE_READY}
        elif i in refused:
            fields |= {"status": SegmentStatus.FAILED, "error_message": refused[i]}
        segments.update_segment(db, job_id, i, **fields)


def test_a_refused_segments_question_says_which_what_is_ready_and_what_waits(rt, db):
    job_id = new_job(db)["id"]
    _refused(db, job_id, made={1, 2, 5}, refused={3: "SAFETY.INPUT.TEXT", 7: None})
    gate_id = GateId.refused(IMAGE, 3)
    gates.open_gate(db, job_id, gate_id, "token")
    db.execute(f"UPDATE {gates.GATES} SET revisions = 2 WHERE job_id = %s", (job_id,))
    question = lifecycle.gate_question(rt, jobs.get_job(db, job_id), gates.get_gate(db, job_id, gate_id))
    assert question == SegmentRefused(
        "image", 3, "SAFETY.INPUT.TEXT", "prompt 3", round=2, ready=3, waiting=(3, 7), blocked=()
    )


def test_a_refused_reference_image_blocks_the_others_and_a_missing_code_is_safety(rt, db):
    job_id = new_job(db)["id"]
    _refused(db, job_id, made={4}, refused={0: None})
    segments.update_segment(db, job_id, 0, image_prompt=None)  # none stored: none shown
    gate_id = GateId.refused(IMAGE, 0)
    gates.open_gate(db, job_id, gate_id, "token")
    question = lifecycle.gate_question(rt, jobs.get_job(db, job_id), gates.get_gate(db, job_id, gate_id))
    assert question == SegmentRefused(
        "image", 0, "SAFETY", "", round=0, ready=1, waiting=(0,), blocked=(1, 2, 3, 5, 6, 7, 8, 9)
    )


def test_a_gates_question_shows_the_redone_segments_only_after_a_revision(rt, db):
    job_id = new_job(db)["id"]
    gates.open_gate(db, job_id, GateId("images"), "token")
    db.execute(f"UPDATE {gates.GATES} SET redo_segments = %s WHERE job_id = %s", ([2, 5], job_id))
    job = jobs.get_job(db, job_id)
    assert lifecycle.gate_question(rt, job, gates.get_gate(db, job_id, GateId("images"))) == GateReady(
        GateStage.IMAGES, round=0, segments=()
    )
    db.execute(f"UPDATE {gates.GATES} SET revisions = 1 WHERE job_id = %s", (job_id,))
    assert lifecycle.gate_question(rt, job, gates.get_gate(db, job_id, GateId("images"))) == GateReady(
        GateStage.IMAGES, round=1, segments=(2, 5)
    )


# ---- a stage's files ---------------------------------------------------------------------------


def test_a_stage_stores_its_files_until_the_job_is_cancelled(rt, db, tmp_path):
    job_id = new_job(db)["id"]
    voice = tmp_path / "voice.mp3"
    voice.write_bytes(b"voice")
    script, audio = storage.job_key(job_id, "script.txt"), storage.job_key(job_id, "voice.mp3")
    assert lifecycle.save_media(rt, job_id, {script: b"script", audio: voice}) == script
    assert (rt.storage.get_bytes(script), rt.storage.get_bytes(audio)) == (b"script", b"voice")
    one = storage.job_key(job_id, "one.bin")
    assert lifecycle.save_media(rt, job_id, one, b"1") == one and rt.storage.get_bytes(one) == b"1"

    lifecycle.cancel_job(rt, job_id)
    with pytest.raises(JobCancelled, match=f"job {job_id} is cancelled"):  # the reason RecordFailure stores
        lifecycle.save_media(rt, job_id, storage.job_key(job_id, "late.bin"), b"late")
    assert rt.storage.delete_prefix(storage.job_prefix(job_id)) == 0  # nothing written after the cancel


class _Cancels:
    """A vendor whose cancel records the task, and refuses those named in `refusing`."""

    def __init__(self, refusing=()):
        self.cancelled, self.refusing = [], set(refusing)

    def cancel(self, task_id):
        if task_id in self.refusing:
            raise ConnectionError("reset")
        self.cancelled.append(task_id)


def test_an_ending_stops_each_unfinished_task_once_within_its_time(rt, db, monkeypatch):
    job_id = new_job(db)["id"]
    segments.create_segments(db, job_id, [f"Часть {i}" for i in range(10)], 5.0)
    segments.update_segment(db, job_id, 0, image_runway_task_id="i-0", image_path="jobs/x/0.png")  # finished
    segments.update_segment(db, job_id, 0, video_runway_task_id="v-0")
    segments.update_segment(db, job_id, 1, image_runway_task_id="i-1")
    segments.update_segment(db, job_id, 2, image_runway_task_id="i-2", video_runway_task_id="v-2")
    images, clips = _Cancels(refusing={"i-2"}), _Cancels()
    replace_part(monkeypatch, rt, "images", images)
    replace_part(monkeypatch, rt, "clips", clips)
    assert lifecycle.stop_vendor_tasks(rt, job_id) == 3  # i-2 could not be stopped: logged, not raised
    assert (images.cancelled, clips.cancelled) == (["i-1"], ["v-0", "v-2"])

    # a cancel starts only while a whole request timeout fits in the time to stop them
    tight = rt.with_env(STOP_TASKS_SECONDS="20", RUNWAY_TIMEOUT_SECONDS="20")
    assert lifecycle.stop_vendor_tasks(tight, job_id) == 0 and images.cancelled == ["i-1"]
    roomy = rt.with_env(STOP_TASKS_SECONDS="30", RUNWAY_TIMEOUT_SECONDS="20")
    assert lifecycle.stop_vendor_tasks(roomy, job_id) == 3


class _Recorder:
    """A notifier that records what each job's user is sent."""

    def __init__(self):
        self.sent = []

    def send(self, job, event):
        self.sent.append((job.id, event))


def _asked_again_now(db, job_id: str, gate_id: GateId) -> None:
    """The gate's question failed once and its backoff is over."""
    gates.question_failed(db, job_id, gate_id, (30.0,))
    db.execute(
        f"UPDATE {gates.GATES} SET next_ask_at = (now() AT TIME ZONE 'utc') - interval '1 second' WHERE job_id = %s",
        (job_id,),
    )


def test_the_sweep_asks_each_due_question_again_and_tells_each_untold_end(rt, db, monkeypatch):
    recorder = _Recorder()
    replace_part(monkeypatch, rt, "notifier", recorder)
    monkeypatch.setattr(lifecycle, "END_NOTICE_GRACE_SECONDS", 0)
    lifecycle.reconcile_messages(rt)  # what earlier tests left due
    recorder.sent.clear()

    refused = new_job(db)["id"]  # a refused segment's question: asked with its segment and prompt
    _refused(db, refused, made={0}, refused={3: "SAFETY.INPUT.IMAGE"})
    gates.open_gate(db, refused, GateId.refused(IMAGE, 3), "token")
    _asked_again_now(db, refused, GateId.refused(IMAGE, 3))
    script = new_job(db)["id"]
    gates.open_gate(db, script, GateId("script"), "token")
    _asked_again_now(db, script, GateId("script"))
    ended = new_job(db)["id"]  # ended with its gate still open: never asked
    gates.open_gate(db, ended, GateId("images"), "token")
    _asked_again_now(db, ended, GateId("images"))
    jobs.finish_job(db, ended, JobStatus.COMPLETED)
    untold = [new_job(db)["id"] for _ in range(2)]
    for job_id in untold:
        notice = {"outcome": "failed", "reason": "x"}
        jobs.finish_job(db, job_id, JobStatus.FAILED, completed_at=NOW, end_notice=notice)

    assert lifecycle.reconcile_messages(rt) == {"asked": 2, "told": 2}
    assert sorted((job_id, type(event).__name__) for job_id, event in recorder.sent) == sorted(
        [(refused, "SegmentRefused"), (script, "GateReady"), *((job_id, "JobEnded") for job_id in untold)]
    )
    question = next(event for job_id, event in recorder.sent if job_id == refused)
    assert (question.segment, question.code, question.prompt, question.ready) == (
        3,
        "SAFETY.INPUT.IMAGE",
        "prompt 3",
        1,
    )
    assert gates.get_gate(db, script, GateId("script")).next_ask_at is None  # asked: not due again
    assert lifecycle.reconcile_messages(rt) == {"asked": 0, "told": 0}


class _FolderGone:
    """Storage whose write fails as a cancel deleting the job's folder makes it fail; `cancel`
    ends the job as the write fails (the cancel that deleted it)."""

    def __init__(self, storage, rt, cancel: bool):
        self.storage, self.rt, self.cancel = storage, rt, cancel

    def put_bytes(self, key, data):
        if self.cancel:
            jobs.finish_job(self.rt.db, key.split("/")[1], JobStatus.CANCELLED)
        raise FileNotFoundError(key)

    def __getattr__(self, name):
        return getattr(self.storage, name)


def test_a_write_that_fails_is_the_cancels_doing_only_when_the_job_was_cancelled(rt, db, monkeypatch):
    job_id = new_job(db)["id"]
    key = storage.job_key(job_id, "voice.mp3")
    replace_part(monkeypatch, rt, "storage", _FolderGone(rt.storage, rt, cancel=False))
    with pytest.raises(FileNotFoundError):  # a real storage fault: raised as it is
        lifecycle.save_media(rt, job_id, key, b"voice")
    replace_part(monkeypatch, rt, "storage", _FolderGone(rt.storage, rt, cancel=True))
    with pytest.raises(JobCancelled, match=f"job {job_id} is cancelled"):
        lifecycle.save_media(rt, job_id, key, b"voice")
