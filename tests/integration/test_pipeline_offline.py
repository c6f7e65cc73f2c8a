"""The whole state machine offline: the same ASL file, moto's interpreter, the handlers
in-process, real PostgreSQL and real media."""

from __future__ import annotations

import time

import pytest

from local.runner import execution_events
from tests.helpers import EndlessImages, RefusingImages, replace_part
from videobot import control, media, storage
from videobot.data import gates
from videobot.data import segments as segment_rows
from videobot.pipeline import GateId

FFMPEG = media.FFmpeg()  # the bundled imageio-ffmpeg, as in the local runner

ALL_STAGE_STATES = [
    "GenerateScript",
    "AwaitScriptApproval",
    "SplitIntoSegments",
    "ProduceClipsAndVoiceover",
    "WriteImagePrompts",
    "GenerateImages",
    "SubmitImage",
    "AwaitImageApproval",
    "WriteAnimationPrompts",
    "AnimateClips",
    "SubmitClip",
    "AwaitVideoApproval",
    "RecordVoiceover",
    "AssembleVideo",
    "DeliverVideo",
    "VideoDelivered",
]


def test_happy_path_walks_every_status_and_delivers_a_50_second_mp4(rt, db, pipeline):
    seen: dict[str, dict] = {}

    def approve_and_record(job: dict, gate: dict) -> bool:
        # Given the job waits at a gate, the rows show exactly what is being approved.
        seen[gate["stage"]] = {"status": job["status"], "segments": segment_rows.get_segments(db, job["id"])}
        return True

    outcome = pipeline.run_job("Реклама кофе", approve_and_record, timeout=300)
    job = outcome.job

    assert outcome.execution_status == "SUCCEEDED"
    assert job["status"] == "completed" and job["script_approved"] == 1 and job["completed_at"]
    assert seen["script"]["status"] == "awaiting_script_approval" and seen["script"]["segments"] == []
    assert seen["images"]["status"] == "awaiting_image_approval"
    assert [s["status"] for s in seen["images"]["segments"]] == ["image_ready"] * 10
    assert seen["videos"]["status"] == "awaiting_video_approval"
    assert {s["status"] for s in seen["videos"]["segments"]} == {"video_ready"}

    states = execution_events(outcome)
    assert set(ALL_STAGE_STATES) <= set(states)
    assert states.index("AwaitScriptApproval") < states.index("SplitIntoSegments") < states.index("AssembleVideo")

    segments = segment_rows.get_segments(db, job["id"])
    assert [s["status"] for s in segments] == ["video_ready"] * 10
    assert all(s["image_path"] and s["video_path"] and s["narration_path"] for s in segments)
    assert job["audio_duration"] == pytest.approx(50.0, abs=0.1)

    path = rt.storage.local_path(job["final_video_path"])
    info = FFMPEG.probe(path)
    assert info.has_video and info.has_audio
    assert info.duration == pytest.approx(50.0, abs=0.2)
    assert path.stat().st_size <= 50_000_000
    assert (info.video_codec, info.pix_fmt, info.audio_codec, info.sample_rate) == ("h264", "yuv420p", "aac", 48000)
    loudness = FFMPEG.measure_loudness(path)
    assert -17.5 <= loudness.integrated <= -14.5 and loudness.true_peak <= -1.0
    assert job["final_video_duration"] == pytest.approx(info.duration, abs=0.01)
    assert job["final_video_size_mb"] == pytest.approx(path.stat().st_size / 1e6, abs=0.01)

    # The seed's second monitoring query, for this job: every segment ✅ and video_ready.
    rows = db.query(
        "SELECT segment_index,"
        " CASE WHEN image_prompt IS NOT NULL THEN '✅' ELSE '⏳' END as img_prompt,"
        " CASE WHEN image_path IS NOT NULL THEN '✅' ELSE '⏳' END as image,"
        " CASE WHEN animation_prompt IS NOT NULL THEN '✅' ELSE '⏳' END as anim_prompt,"
        " CASE WHEN video_path IS NOT NULL THEN '✅' ELSE '⏳' END as video, status"
        " FROM ai_video_bot.video_segments_enhanced WHERE job_id = %s ORDER BY segment_index",
        (job["id"],),
    )
    assert all(list(r.values())[1:] == ["✅", "✅", "✅", "✅", "video_ready"] for r in rows) and len(rows) == 10


@pytest.mark.parametrize("stage", ["script", "images", "videos"])
def test_reject_at_each_gate_ends_the_execution_and_clears_the_job(rt, db, pipeline, stage):
    outcome = pipeline.run_job("Реклама кофе", lambda job, gate: gate["stage"] != stage, timeout=300)
    job = outcome.job

    # the user's ❌ is the user's outcome, not an execution failure (no alarm)
    assert outcome.execution_status == "SUCCEEDED"
    assert "CancelJob" in execution_events(outcome) and "JobCancelled" in execution_events(outcome)
    assert job["status"] == "cancelled"
    assert job["script_approved"] == (-1 if stage == "script" else 1)
    assert job["script_text"] is None and job["final_video_path"] is None
    assert segment_rows.get_segments(db, job["id"]) == []
    assert db.query("SELECT * FROM ai_video_bot.approval_gates WHERE job_id = %s", (job["id"],)) == []
    assert not rt.storage.local_path(storage.job_prefix(job["id"])).exists()


def test_approval_timeout_records_the_outcome(rt, db, pipeline, monkeypatch):
    told = []

    class Told:
        def send(self, job, event):
            told.append((job.id, event))

    replace_part(monkeypatch, rt, "notifier", Told())
    job = pipeline.start_job("Реклама кофе", overrides={"approval_timeout_seconds": 1})
    outcome = pipeline.wait(job["id"], decider=None, timeout=120)

    assert outcome.execution_status == "SUCCEEDED"  # the user's outcome, no alarm
    assert "RecordApprovalTimeout" in execution_events(outcome) and "ApprovalTimedOut" in execution_events(outcome)
    assert outcome.job["status"] == "timed_out"
    assert gates.get_gate(db, job["id"], GateId("script"))["decision"] == "timed_out"
    # the user is told, once, that no answer came in time at the script gate
    ended = [e for job_id, e in told if job_id == job["id"] and type(e).__name__ == "JobEnded"]
    assert len(ended) == 1 and ended[0].outcome == "timed_out" and ended[0].stage == "script"


def test_double_approve_resumes_once_and_stale_buttons_change_nothing(rt, pipeline):
    job = pipeline.start_job("Реклама кофе")
    answers = []

    def tap_twice(j: dict, gate: dict):
        if gate["stage"] == "script":
            answers.append(control.decide(rt, j["id"], GateId("script"), approve=True))
            answers.append(control.decide(rt, j["id"], GateId("script"), approve=True))  # double tap
            answers.append(control.decide(rt, j["id"], GateId("videos"), approve=True))  # a button of a later stage
            return None
        if gate["stage"] == "images":
            answers.append(
                control.decide(rt, j["id"], GateId("script"), approve=False)
            )  # stale: script already approved
            return False
        return True

    outcome = pipeline.wait(job["id"], tap_twice, timeout=300)
    assert [a.reason for a in answers] == ["approved", "not_waiting", "not_waiting", "not_waiting"]
    assert outcome.job["status"] == "cancelled"


def test_a_failing_stage_records_the_reason(rt, pipeline, monkeypatch):

    replace_part(monkeypatch, rt, "images", RefusingImages())
    outcome = pipeline.run_job("Реклама кофе", timeout=300)

    # content refused is the user's input: the job fails with the reason, the execution is no fault
    assert outcome.execution_status == "SUCCEEDED"
    assert "RecordFailure" in execution_events(outcome) and "JobEndedOnInput" in execution_events(outcome)
    assert outcome.job["status"] == "failed"
    assert outcome.job["error_message"].startswith("ContentRefused: segment 1")


def test_a_stopped_execution_stops_its_segments_children(rt, db, pipeline, monkeypatch):
    """Step Functions stops a .sync child when its parent stops (here the parent is stopped
    from outside, as the console's Stop does: the job itself knows nothing of it)."""
    replace_part(monkeypatch, rt, "images", EndlessImages())  # a child may still end itself on the job's end
    job = pipeline.start_job("Реклама кофе", overrides={"poll_interval_seconds": 30})
    children: list[str] = []

    def stop_once_every_image_polls(j) -> None:
        if not children and len(started := pipeline.child_executions(j)) == 10:
            pipeline.sfn.stop_execution(executionArn=j.execution_arn, error="Stopped", cause="by hand")
            children.extend(started)

    outcome = pipeline.wait(job.id, lambda j, g: True, timeout=120, on_tick=stop_once_every_image_polls)
    assert children and outcome.execution_status in ("ABORTED", "FAILED")
    deadline = time.monotonic() + 8  # the runner looks when an execution ends, at most every 2 s
    while running := [c for c in children if pipeline.sfn.describe_execution(executionArn=c)["status"] == "RUNNING"]:
        assert time.monotonic() < deadline, f"{len(running)} children still running after their parent ended"
        time.sleep(0.1)


def test_cancel_between_gates_stops_the_execution_and_clears_the_job(rt, db, pipeline, monkeypatch):
    replace_part(monkeypatch, rt, "images", EndlessImages())  # so the job is surely between gates
    job = pipeline.start_job("Реклама кофе", overrides={"poll_interval_seconds": 1})
    cancelled = []

    def cancel_while_generating(j: dict) -> None:
        submitted = (
            j["status"] == "generating_images" and segment_rows.get_segment(db, j["id"], 0)["image_runway_task_id"]
        )
        if submitted and not cancelled:
            cancelled.append(control.cancel(rt, j["id"]))

    outcome = pipeline.wait(job["id"], lambda j, g: True, timeout=120, on_tick=cancel_while_generating)
    assert cancelled and cancelled[0].done
    # AWS reports ABORTED; moto's interpreter, stopped inside a Map, ends the run as FAILED.
    assert outcome.execution_status in ("ABORTED", "FAILED")
    assert "JobFailed" not in execution_events(outcome)  # no failure path ran over the cancel
    assert outcome.job["status"] == "cancelled"
    assert segment_rows.get_segments(db, job["id"]) == []
    assert not rt.storage.local_path(storage.job_prefix(job["id"])).exists()
