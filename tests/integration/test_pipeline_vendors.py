"""The whole state machine with the real OpenAI and Runway clients pointed at the local fakes
(OPENAI_BASE_URL, RUNWAYML_BASE_URL), with vendor faults on the way: it still makes the
video, pays for each task once, and records what the job spent."""

from __future__ import annotations

import pytest

from local.runner import execution_events
from tests.fakes.fixtures import openai_vars, runway_vars
from tests.helpers import offered
from videobot import media, usage
from videobot.data import segments as segment_rows

FFMPEG = media.FFmpeg()  # the bundled imageio-ffmpeg, as in the local runner


def test_real_clients_against_the_fakes_make_the_video_despite_vendor_faults(
    rt, db, pipeline, fake_openai, fake_runway
):
    # Given vendors that rate-limit, throttle, fail internally and cancel now and then
    fake_openai.fail(
        "POST /v1/responses", 429, body={"error": {"message": "Rate limit"}}, headers={"retry-after-ms": "10"}
    )
    fake_openai.realtime.reword_next("Совсем другие слова.")  # a voice model that rewords once
    fake_runway.fail("POST /v1/text_to_image", 429, body={"error": "Too many requests"}, headers={"Retry-After": "0"})
    fake_runway.plan("text_to_image", ["RUNNING", "FAILED"], seed=7, failure_code="INTERNAL.BAD_OUTPUT.CODE01")
    fake_runway.plan("image_to_video", ["THROTTLED", "THROTTLED", "RUNNING", "SUCCEEDED"], seed=4)
    fake_runway.plan("image_to_video", ["CANCELLED"], seed=2)

    # When a job runs with the real clients
    with pipeline.using(pipeline.runtime_with(**{**openai_vars(fake_openai), **runway_vars(fake_runway)})):
        outcome = pipeline.run_job("Реклама кофе", timeout=300)
    job = outcome.job

    # Then the video is made
    assert outcome.execution_status == "SUCCEEDED", execution_events(outcome)
    assert job["status"] == "completed" and job["language"] == "ru"
    path = rt.storage.local_path(job["final_video_path"])
    info = FFMPEG.probe(path)
    assert info.has_video and info.has_audio and info.duration == pytest.approx(50.0, abs=0.5)
    segments = segment_rows.get_segments(db, job["id"])
    assert all(s["status"] == "video_ready" and s["narration_duration"] > 0 for s in segments)

    # ... from two LLM calls (one more request was the 429), ten speech parts (one read again) and one task per
    # segment and stage, plus exactly one resubmit for the INTERNAL failure and the cancel
    assert len(fake_openai.calls("POST /v1/responses")) == 3
    assert len(fake_openai.realtime.sessions) == 11 and fake_openai.calls("POST /v1/audio/speech") == []
    images, clips = fake_runway.created("text_to_image"), fake_runway.created("image_to_video")
    assert sorted(t.body["seed"] for t in images) == sorted([*range(10), 7])
    assert sorted(t.body["seed"] for t in clips) == sorted([*range(10), 2])
    assert {s["image_runway_task_id"] for s in segments} <= set(fake_runway.tasks)
    assert all(t.body["ratio"] == "1280:720" for t in images + clips)
    assert all(t.body["referenceImages"][0]["tag"] == "opening" for t in images if t.body["seed"] != 0)
    assert all(t.body["promptImage"].startswith("data:image/png;base64,") for t in clips)
    throttled = fake_runway.tasks[segments[4]["video_runway_task_id"]]
    assert throttled.history == ["THROTTLED", "THROTTLED", "RUNNING", "SUCCEEDED"]

    # ... and the job's vendor usage is recorded
    totals = usage.summary(db, job["id"])
    assert totals["llm_calls"] == 2 and totals["llm_output_tokens"] > 0
    assert totals["tts_characters"] == sum(len(" ".join(s["text"].split())) for s in segments)
    assert totals["runway_tasks"] == 22
    # image 0 on gen4_image (5), images 1-9 from it on gen4_image_turbo (2); failed and cancelled tasks cost 0
    assert totals["runway_credits"] == 5 + 9 * 2 + 10 * 25
    assert totals["by_model"]["runway:gen4_image_turbo"]["calls"] >= 9
    assert totals["runway_seconds"] == 11 * 5
    assert totals["estimated_usd"] == pytest.approx(2.76, abs=0.1)


def test_a_job_on_veo_through_runways_tier_1_queue_records_its_6_s_clips_credits(
    rt, db, pipeline, fake_openai, fake_runway
):
    from videobot import preferences

    # Given a user who chose veo3.1_fast, and a Runway project at tier 1 (2 generations at once)
    # while the Maps are set to run 4 segments at once: Runway queues the rest as THROTTLED
    fake_runway.concurrency = 2
    # each clip runs half a second, so the four submitted at once surely overlap (with tasks that
    # end at their second poll, whether a third was created before two ended was a race)
    fake_runway.task_seconds["image_to_video"] = 0.5
    user_id = 7_000_000_014
    with pipeline.using(
        pipeline.runtime_with(**{**openai_vars(fake_openai), **runway_vars(fake_runway), "RUNWAY_CONCURRENCY": "4"})
    ) as tuned:
        assert tuned.settings.max_concurrency == 4
        preferences.choose(db, user_id, "video_model", "veo3.1_fast", **offered(tuned))
        outcome = pipeline.run_job("Реклама кофе", user_id=user_id, chat_id=user_id, timeout=300)
    job = outcome.job

    # Then the video is made of veo3.1_fast clips, generated at 6 s (veo takes 4, 6 or 8) and trimmed
    assert outcome.execution_status == "SUCCEEDED", execution_events(outcome)
    assert job["status"] == "completed" and job["video_model"] == "veo3.1_fast"
    info = FFMPEG.probe(rt.storage.local_path(job["final_video_path"]))
    assert info.duration == pytest.approx(50.0, abs=0.5)
    clips = fake_runway.created("image_to_video")
    assert len(clips) == 10 and {(t.body["model"], t.body["duration"]) for t in clips} == {("veo3.1_fast", 6)}
    # ... some of them waited in Runway's queue (the fake runs at most 2 at once)
    assert any("THROTTLED" in t.history for t in fake_runway.tasks.values())
    assert all(s["vendor_status"] is None for s in segment_rows.get_segments(db, job["id"]))

    # ... and the ledger records each clip on its model, billed for 6 s without audio (10 credits/s)
    totals = usage.summary(db, job["id"])
    assert totals["by_model"]["runway:veo3.1_fast"] == {
        "calls": 10,
        "credits": 10 * 60.0,
        "seconds": 60.0,
        "tokens": 0,
        "characters": 0,
    }
    assert totals["runway_credits"] == 5 + 9 * 2 + 10 * 60
    assert totals["estimated_usd"] == pytest.approx(6.23 + 0.03, abs=0.05)
    assert all(t.body.get("audio") is False for t in fake_runway.created("image_to_video"))


def test_a_refused_image_fails_the_job_and_names_the_segment(pipeline, fake_openai, fake_runway):
    fake_runway.plan("text_to_image", ["RUNNING", "FAILED"], seed=3, failure_code="SAFETY.INPUT.TEXT")

    # With no rounds left for the refused segment's pause (AwaitRefusedImage; the pause itself is
    # tests/integration/telegram/test_conversation_refusal.py), the refusal fails the job.
    with pipeline.using(
        pipeline.runtime_with(**{**openai_vars(fake_openai), **runway_vars(fake_runway), "MAX_GATE_REVISIONS": "0"})
    ):
        outcome = pipeline.run_job("Реклама кофе", timeout=300)

    # the user's content, refused: the job fails with the reason, the execution is no fault (no alarm)
    assert outcome.execution_status == "SUCCEEDED" and "RecordFailure" in execution_events(outcome)
    assert "JobEndedOnInput" in execution_events(outcome)
    assert outcome.job["status"] == "failed"
    assert outcome.job["error_message"].startswith("ContentRefused: segment 4:")
    assert "SAFETY.INPUT.TEXT" in outcome.job["error_message"]
    assert len([t for t in fake_runway.created("text_to_image") if t.body["seed"] == 3]) == 1
