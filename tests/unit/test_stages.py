"""Each stage handler against real PostgreSQL and the offline providers: what it writes, and
that a retried invocation repeats nothing."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import assemble_video.app as assemble_video
import cancel_job.app as cancel_job
import check_clip.app as check_clip
import check_image.app as check_image
import deliver_video.app as deliver_video
import generate_script.app as generate_script
import pytest
import record_approval_timeout.app as record_approval_timeout
import record_failure.app as record_failure
import record_voiceover.app as record_voiceover
import request_approval.app as request_approval
import split_into_segments.app as split_into_segments
import submit_clip.app as submit_clip
import submit_image.app as submit_image
import write_animation_prompts.app as write_animation_prompts
import write_image_prompts.app as write_image_prompts

from tests.helpers import new_job, replace_part
from videobot import media, storage
from videobot.data import gates, jobs
from videobot.data import segments as segment_rows
from videobot.errors import ContentRefused, JobCancelled, PollBudgetExceeded, VendorFailed
from videobot.pipeline import GateId
from videobot.providers import base
from videobot.stages.animate_clips import prepared_key

FFMPEG = media.FFmpeg()  # the bundled imageio-ffmpeg, as in the local runner


def _notifications(db, job_id: str) -> list[str]:
    return [
        r["key"]
        for r in db.query(
            "SELECT key FROM ai_video_bot.notifications WHERE job_id = %s ORDER BY sent_at, key", (job_id,)
        )
    ]


# An execution's settings, as its input carries them to every state (the tests' fakes answer at once)
EXECUTION = {
    "approval_timeout_seconds": 600,
    "poll_interval_seconds": 0,
    "image_first_poll_seconds": 0,
    "clip_first_poll_seconds": 0,
    "max_poll_attempts": 90,
    "max_concurrency": 10,
}


def _event(job: dict, settings: dict | None = None, **extra) -> dict:
    return {"job_id": job["id"], "settings": {**EXECUTION, **(settings or {})}, **extra}


@pytest.fixture
def scripted_job(rt, db) -> dict:
    job = new_job(db)
    generate_script.lambda_handler.run(rt, _event(job))
    split_into_segments.lambda_handler.run(rt, _event(job))
    return jobs.get_job(db, job["id"])


def _images_done(rt, job: dict) -> None:
    write_image_prompts.lambda_handler.run(rt, _event(job))
    for i in range(10):
        assert submit_image.lambda_handler.run(rt, _event(job, segment_index=i))["state"] == "done"


def test_generate_script_writes_ten_parts_in_the_topic_language(rt, db):
    job = new_job(db, "Реклама кофе")
    result = generate_script.lambda_handler.run(rt, _event(job))
    row = jobs.get_job(db, job["id"])
    assert result == {"segments": 10}
    assert row["language"] == "ru"
    assert len(row.segment_texts) == 10
    assert row["script_text"].splitlines() == row.segment_texts
    assert "Реклама кофе" in row["script_text"]
    assert row["script_generated_at"] is not None and row["status"] == "generating_script"

    # A retry keeps the first script.
    generate_script.lambda_handler.run(rt, _event(job))
    assert jobs.get_job(db, job["id"])["script_generated_at"] == row["script_generated_at"]


def test_english_topic_gets_an_english_script(rt, db):
    job = new_job(db, "Coffee advert")
    generate_script.lambda_handler.run(rt, _event(job))
    row = jobs.get_job(db, job["id"])
    assert row["language"] == "en" and row["script_text"].startswith("Coffee advert")


def test_request_approval_stores_the_token_and_asks_once(rt, db, scripted_job):
    job = scripted_job
    request_approval.lambda_handler.run(rt, _event(job, stage="script", task_token="token-1"))
    # Lambda retried: a new token replaces the old one, the user is not asked twice.
    request_approval.lambda_handler.run(rt, _event(job, stage="script", task_token="token-2"))
    gate = gates.get_gate(db, job["id"], GateId("script"))
    assert gate["task_token"] == "token-2" and gate["decided_at"] is None
    assert jobs.get_job(db, job["id"])["status"] == "awaiting_script_approval"
    assert _notifications(db, job["id"]) == ["gate:script"]


def test_split_into_segments_makes_ten_timed_rows_once(rt, db, scripted_job):
    split_into_segments.lambda_handler.run(rt, _event(scripted_job))  # retried
    segs = segment_rows.get_segments(db, scripted_job["id"])
    assert [s["segment_index"] for s in segs] == list(range(10))
    assert [(s["start_time"], s["end_time"]) for s in segs] == [(i * 5.0, i * 5.0 + 5.0) for i in range(10)]
    assert all(s["status"] == "pending" for s in segs)
    assert [s["text"] for s in segs] == scripted_job.segment_texts


def test_image_prompts_then_images(rt, db, scripted_job):
    job = scripted_job
    write_image_prompts.lambda_handler.run(rt, _event(job))
    segs = segment_rows.get_segments(db, job["id"])
    assert all(s["status"] == "image_prompt_ready" and 100 <= len(s["image_prompt"]) <= 200 for s in segs)
    assert jobs.get_job(db, job["id"])["status"] == "generating_images"

    # Segment 1 is blocked until segment 0's image exists (the reference of the other nine): its
    # child execution ends, and the Map makes it on its next pass
    assert submit_image.lambda_handler.run(rt, _event(job, segment_index=1))["state"] == "blocked"
    assert segment_rows.get_segment(db, job["id"], 1)["image_runway_task_id"] is None
    assert submit_image.lambda_handler.run(rt, _event(job, segment_index=0))["state"] == "done"
    assert submit_image.lambda_handler.run(rt, _event(job, segment_index=1))["state"] == "done"

    seg = segment_rows.get_segment(db, job["id"], 0)
    assert seg["status"] == "image_ready" and seg["image_path"] == f"jobs/{job['id']}/images/00.png"
    assert rt.storage.get_bytes(seg["image_path"]).startswith(b"\x89PNG")
    # A retried submit after success neither resubmits nor rewrites.
    task = seg["image_runway_task_id"]
    assert submit_image.lambda_handler.run(rt, _event(job, segment_index=0))["state"] == "done"
    assert segment_rows.get_segment(db, job["id"], 0)["image_runway_task_id"] == task
    assert segment_rows.get_segment(db, job["id"], 0)["image_submissions"] == 1


def test_animation_prompts_then_clips(rt, db, scripted_job):
    job = scripted_job
    _images_done(rt, job)
    write_animation_prompts.lambda_handler.run(rt, _event(job))
    assert jobs.get_job(db, job["id"])["status"] == "generating_videos"
    assert submit_clip.lambda_handler.run(rt, _event(job, segment_index=3))["state"] == "done"
    assert check_clip.lambda_handler.run(rt, _event(job, segment_index=3, attempt=0))["state"] == "done"
    seg = segment_rows.get_segment(db, job["id"], 3)
    assert seg["status"] == "video_ready" and 50 <= len(seg["animation_prompt"]) <= 100
    assert seg["video_duration"] == pytest.approx(5.0, abs=0.05)
    info = FFMPEG.probe(rt.storage.local_path(seg["video_path"]))
    assert info.has_video and not info.has_audio and (info.width, info.height) == (1280, 720)
    # The segment's share of the assembly was done here, in the Map: sized, captioned, faded.
    # Its key names its caption (the segment's text), so a caption made stale by a shortened
    # narration is never taken for the current one.
    key = prepared_key(rt, jobs.get_job(db, job["id"]), segment_rows.get_segment(db, job["id"], 3))
    assert key == storage.text_key(job["id"], "segments", 3, seg["text"], "mp4")
    prepared = FFMPEG.probe(rt.storage.local_path(key))
    assert (prepared.video_codec, prepared.pix_fmt, prepared.width, prepared.height) == ("h264", "yuv420p", 1280, 720)
    assert prepared.duration == pytest.approx(5.0, abs=0.01) and not prepared.has_audio


class ScriptedGenerator:
    """An ImageGenerator whose tasks answer with a scripted list of states."""

    def __init__(self, states: list[base.TaskState]):
        self.states = list(states)
        self.submitted: list[base.ImageRequest] = []

    def submit(self, request):
        self.submitted.append(request)
        return f"task-{len(self.submitted)}"

    def get_task(self, task_id):
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def fetch_output(self, url):
        from videobot.providers.offline import render_slide

        return render_slide("scripted", seed=1)

    def cancel(self, task_id):
        pass

    def estimate(self, request):
        return {"vendor": "scripted", "model": "scripted", "seconds": 0, "credits": 0}


@pytest.fixture
def scripted_images(rt, monkeypatch):
    def install(states):
        gen = ScriptedGenerator(states)
        replace_part(monkeypatch, rt, "images", gen)
        return gen

    return install


def test_unfinished_task_is_polled_not_resubmitted(rt, db, scripted_job, scripted_images):
    gen = scripted_images(
        [
            base.TaskState("THROTTLED"),
            base.TaskState("RUNNING"),
            base.TaskState("SUCCEEDED", output_url="https://vendor/out.png"),
        ]
    )
    write_image_prompts.lambda_handler.run(rt, _event(scripted_job))
    waits = {"poll_interval_seconds": 10, "image_first_poll_seconds": 0}  # no learned first wait
    first = submit_image.lambda_handler.run(rt, _event(scripted_job, waits, segment_index=0))
    # A young task is checked again after the shortest interval (the schedule itself is
    # tested in tests/unit/test_runway.py)
    assert first == {"state": "waiting", "attempt": 1, "wait_seconds": 10}
    second = check_image.lambda_handler.run(rt, _event(scripted_job, waits, segment_index=0, attempt=1))
    assert second == {"state": "waiting", "attempt": 2, "wait_seconds": 10}
    assert (
        check_image.lambda_handler.run(rt, _event(scripted_job, waits, segment_index=0, attempt=2))["state"] == "done"
    )
    assert len(gen.submitted) == 1
    assert segment_rows.get_segment(db, scripted_job["id"], 0)["image_path"].endswith("/images/00.png")


def test_segments_need_the_reference_image_and_hold_no_slot_while_it_is_made_or_refused(
    rt, db, scripted_job, scripted_images
):
    gen = scripted_images([base.TaskState("RUNNING")] * 3)
    write_image_prompts.lambda_handler.run(rt, _event(scripted_job))
    waits = {"poll_interval_seconds": 10, "image_first_poll_seconds": 0}
    assert submit_image.lambda_handler.run(rt, _event(scripted_job, waits, segment_index=0))["wait_seconds"] == 10
    # Segment 1 needs segment 0's image as its reference: not submitted, and not waiting in a
    # slot of the Map either (its child execution ends; the Map makes it on its next pass)
    second = submit_image.lambda_handler.run(rt, _event(scripted_job, waits, segment_index=1))
    assert second == {"state": "blocked", "attempt": 0, "wait_seconds": 0}
    assert segment_rows.get_segment(db, scripted_job["id"], 1)["image_runway_task_id"] is None
    # the same while segment 0's image is refused and waits for the user
    segment_rows.update_segment(db, scripted_job["id"], 0, status="failed", error_message="SAFETY.INPUT.TEXT")
    assert submit_image.lambda_handler.run(rt, _event(scripted_job, segment_index=2))["state"] == "blocked"
    assert len(gen.submitted) == 1


def test_safety_refusal_pauses_the_segment_then_fails_it_for_good(rt, db, scripted_job, scripted_images):
    gen = scripted_images([base.TaskState("FAILED", failure="refused", failure_code="SAFETY.INPUT.TEXT")])
    write_image_prompts.lambda_handler.run(rt, _event(scripted_job))
    # Within MAX_GATE_REVISIONS the segment waits at its own gate (AwaitRefusedImage)
    assert submit_image.lambda_handler.run(rt, _event(scripted_job, segment_index=0))["state"] == "refused"
    seg = segment_rows.get_segment(db, scripted_job["id"], 0)
    assert seg["status"] == "failed" and seg["error_message"] == "SAFETY.INPUT.TEXT"
    assert len(gen.submitted) == 1
    # With no rounds left (here none at all), the refusal fails the job naming the segment
    with pytest.raises(ContentRefused, match="segment 1"):
        submit_image.lambda_handler.run(rt.with_env(MAX_GATE_REVISIONS="0"), _event(scripted_job, segment_index=0))
    assert len(gen.submitted) == 1


def test_internal_failure_is_resubmitted_a_bounded_number_of_times(rt, scripted_job, scripted_images):
    gen = scripted_images([base.TaskState("FAILED", failure_code="INTERNAL.BAD_OUTPUT.CODE01")])
    write_image_prompts.lambda_handler.run(rt, _event(scripted_job))
    with pytest.raises(VendorFailed, match=r"INTERNAL\.BAD_OUTPUT"):
        submit_image.lambda_handler.run(rt, _event(scripted_job, segment_index=0))
    assert len(gen.submitted) == 3  # the first try and MAX_RESUBMITS=2 more


def test_poll_budget_is_the_executions(rt, scripted_job, scripted_images):
    scripted_images([base.TaskState("PENDING")])
    write_image_prompts.lambda_handler.run(rt, _event(scripted_job))
    budget = {"max_poll_attempts": 3}  # the execution's, in its input: not the function's environment
    submit_image.lambda_handler.run(rt, _event(scripted_job, budget, segment_index=0))
    longer = rt.with_env(MAX_POLL_ATTEMPTS="90")  # (what the function's environment says changes nothing)
    assert (
        check_image.lambda_handler.run(longer, _event(scripted_job, budget, segment_index=0, attempt=1))["attempt"] == 2
    )
    with pytest.raises(PollBudgetExceeded):
        check_image.lambda_handler.run(longer, _event(scripted_job, budget, segment_index=0, attempt=2))


def test_voiceover_lays_each_part_on_its_segment(rt, db, scripted_job):
    result = record_voiceover.lambda_handler.run(rt, _event(scripted_job))
    assert result["audio_duration"] == pytest.approx(50.0, abs=0.1)
    segs = segment_rows.get_segments(db, scripted_job["id"])
    assert all(s["narration_path"] and 0.5 < s["narration_duration"] < 6.5 for s in segs)
    job = jobs.get_job(db, scripted_job["id"])
    info = FFMPEG.probe(rt.storage.local_path(job["audio_path"]))
    assert info.has_audio and info.audio_codec == "flac" and info.sample_rate == 48000  # lossless until mastered
    # Retried: the speech is not synthesised again.
    before = [s["narration_path"] for s in segs]
    record_voiceover.lambda_handler.run(rt, _event(scripted_job))
    assert [s["narration_path"] for s in segment_rows.get_segments(db, scripted_job["id"])] == before


LONG_PART = (
    "Каждое утро наши бариста вручную мелют свежие зёрна, медленно наливают каждую чашку, "
    "рисуют сердечко на пенке и с улыбкой желают каждому гостю по-настоящему хорошего и доброго дня."
)


def _made_by_runway(rt, job: dict, submit, check, segment_index: int) -> None:
    """A segment's task on the fake Runway: submitted, then checked until done, as the Map's
    Wait/Choice loop does."""
    step = submit.lambda_handler.run(rt, _event(job, segment_index=segment_index))
    for _ in range(20):  # the fake finishes a task within a few polls; a task it never finishes fails here
        if step["state"] != "waiting":
            break
        step = check.lambda_handler.run(rt, _event(job, segment_index=segment_index, attempt=step["attempt"]))
    assert step["state"] == "done"


def test_assemble_and_deliver(rt, db, scripted_job, monkeypatch, runway_env):
    """The images and clips come from the fake Runway, one clip for every segment (the renders
    this test is about are the segments', the soundtrack's and the video's: ten clips of the
    offline vendor would add ten Ken Burns renders, a third of its CPU)."""
    job = scripted_job
    # Segment 3's part is far too long for 5 s: its clip is captioned with it first (the clips
    # and the voice-over run side by side), then the voice-over has it shortened.
    segment_rows.update_segment(db, job["id"], 3, text=LONG_PART)
    write_image_prompts.lambda_handler.run(rt, _event(job))
    for i in range(10):
        _made_by_runway(rt, job, submit_image, check_image, i)
    write_animation_prompts.lambda_handler.run(rt, _event(job))
    with ThreadPoolExecutor(max_workers=10) as segments:  # side by side, as the Map runs them
        list(segments.map(lambda i: _made_by_runway(rt, job, submit_clip, check_clip, i), range(10)))
    spoken = record_voiceover.lambda_handler.run(rt, _event(job))
    assert spoken["narration"]["rewritten"] == [3]
    said = segment_rows.get_segment(db, job["id"], 3)["text"]
    assert LONG_PART.startswith(said[:-1]) and len(said) < len(LONG_PART)
    captioned = []
    prepare = rt.ffmpeg.prepare_segment
    monkeypatch.setattr(
        rt.ffmpeg, "prepare_segment", lambda *a, **kw: captioned.append(kw["text"]) or prepare(*a, **kw)
    )
    result = assemble_video.lambda_handler.run(rt, _event(job))
    assert captioned == [said]  # only segment 3 captioned again, with what is said
    row = jobs.get_job(db, job["id"])
    assert row["status"] == "delivering" and row["final_video_path"] == f"jobs/{job['id']}/final.mp4"
    info = FFMPEG.probe(rt.storage.local_path(row["final_video_path"]))
    assert info.has_video and info.has_audio and info.video_codec == "h264" and info.audio_codec == "aac"
    assert info.duration == pytest.approx(50.0, abs=0.5) and result["size_bytes"] <= 50_000_000

    deliver_video.lambda_handler.run(rt, _event(job))
    deliver_video.lambda_handler.run(rt, _event(job))  # retried: one message
    row = jobs.get_job(db, job["id"])
    assert row["status"] == "completed" and row["completed_at"] is not None
    assert _notifications(db, job["id"]).count("video_ready") == 1


def test_cancel_clears_rows_and_media_and_is_never_overwritten(rt, db, scripted_job):
    job = scripted_job
    _images_done(rt, job)
    request_approval.lambda_handler.run(rt, _event(job, stage="images", task_token="t"))
    db.execute(f"UPDATE {gates.GATES} SET decision = 'rejected', decided_at = now() WHERE job_id = %s", (job["id"],))
    folder = rt.storage.local_path(storage.job_prefix(job["id"]))
    assert folder.exists()

    result = cancel_job.lambda_handler.run(
        rt, _event(job, error={"Error": "Rejected", "Cause": "rejected at the images"})
    )

    row = jobs.get_job(db, job["id"])
    assert result["cancelled"] and result["deleted_files"] >= 10
    assert row["status"] == "cancelled" and row["script_text"] is None and row["script_approved"] == 0
    assert segment_rows.get_segments(db, job["id"]) == [] and gates.get_gate(db, job["id"], GateId("images")) is None
    assert not folder.exists()
    # A late stage cannot bring it back.
    with pytest.raises(JobCancelled):
        jobs.update_job(db, job["id"], status="assembling")
    assert jobs.get_job(db, job["id"])["status"] == "cancelled"


def test_a_stage_still_running_when_the_job_is_cancelled_leaves_no_media(rt, db, scripted_job, monkeypatch):
    """The voice-over runs beside the gates; a reject can land while it is speaking."""
    job = scripted_job
    folder = rt.storage.local_path(storage.job_prefix(job["id"]))
    speech = rt.speech
    original = speech.synthesize

    def cancel_midway(text, **kwargs):
        spoken = original(text, **kwargs)
        if folder.exists():  # the first part is stored: now the user rejects
            cancel_job.lambda_handler.run(rt, _event(job))
        return spoken

    monkeypatch.setattr(speech, "synthesize", cancel_midway)
    with pytest.raises(JobCancelled):
        record_voiceover.lambda_handler.run(rt, _event(job))
    assert jobs.get_job(db, job["id"])["status"] == "cancelled"
    assert not folder.exists()


def test_reject_at_script_marks_script_rejected(rt, db, scripted_job):
    job = scripted_job
    request_approval.lambda_handler.run(rt, _event(job, stage="script", task_token="t"))
    db.execute(f"UPDATE {gates.GATES} SET decision = 'rejected', decided_at = now() WHERE job_id = %s", (job["id"],))
    cancel_job.lambda_handler.run(rt, _event(job, error={"Error": "Rejected"}))
    assert jobs.get_job(db, job["id"])["script_approved"] == -1


def test_failure_records_the_reason_in_plain_words(rt, db, scripted_job):
    cause = json.dumps({"errorType": "ContentRefused", "errorMessage": "segment 3: the image was refused"})
    request_approval.lambda_handler.run(rt, _event(scripted_job, stage="images", task_token="t"))
    result = record_failure.lambda_handler.run(
        rt, _event(scripted_job, error={"Error": "ContentRefused", "Cause": cause})
    )
    row = jobs.get_job(db, scripted_job["id"])
    assert result["error_type"] == "ContentRefused"
    assert row["status"] == "failed" and row["error_message"] == "ContentRefused: segment 3: the image was refused"
    assert gates.get_gate(db, scripted_job["id"], GateId("images"))["decision"] == "abandoned"
    assert "job_failed" in _notifications(db, scripted_job["id"])


def test_timeout_is_recorded(rt, db, scripted_job):
    request_approval.lambda_handler.run(rt, _event(scripted_job, stage="script", task_token="t"))
    record_approval_timeout.lambda_handler.run(rt, _event(scripted_job, error={"Error": "States.Timeout"}))
    row = jobs.get_job(db, scripted_job["id"])
    assert row["status"] == "timed_out" and "script" in row["error_message"]
    assert gates.get_gate(db, scripted_job["id"], GateId("script"))["decision"] == "timed_out"


def test_a_clip_check_reads_the_job_once_and_a_plain_poll_not_at_all(rt, db, scripted_job, monkeypatch):
    """The job row is read where it must be fresh (before paying: a sibling may have failed the
    job; after paying: it may have ended meanwhile; around the media writes: a cancel), and
    otherwise once per check (the clip's preparation, the progress)."""
    from videobot.data import jobs as job_rows

    job = scripted_job
    _images_done(rt, job)
    write_animation_prompts.lambda_handler.run(rt, _event(job))
    reads = []
    real = job_rows.get_job
    monkeypatch.setattr(job_rows, "get_job", lambda db, job_id: reads.append(job_id) or real(db, job_id))
    # submitted, done at once (the offline vendor), stored with its prepared segment
    assert submit_clip.lambda_handler.run(rt, _event(job, segment_index=4))["state"] == "done"
    assert len(reads) == 5  # before and after paying, once for the check, before and after the two writes
    # a task still running: the check reads no job at all
    replace_part(monkeypatch, rt, "clips", ScriptedGenerator([base.TaskState("RUNNING")]))
    reads.clear()
    assert submit_clip.lambda_handler.run(rt, _event(job, segment_index=5))["state"] == "waiting"
    assert check_clip.lambda_handler.run(rt, _event(job, segment_index=5, attempt=1))["state"] == "waiting"
    assert len(reads) == 2  # the submit's two, the check none
