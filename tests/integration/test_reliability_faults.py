"""Reliability matrix, fault injection through the real state machine (moto's interpreter,
the handlers in-process), the real OpenAI/Runway/Telegram clients and their local fakes.
Each scenario ends in success after a retry, or in a clean failure: the user told in plain
words, the job failed with its reason, the execution over, no vendor task paid twice and
none left running."""

from __future__ import annotations

import json
import random

import generate_script.app as generate_script_app
import pytest

from local.runner import execution_events
from tests.fakes.fixtures import openai_vars, runway_vars
from tests.fakes.telegram_fixtures import fake_telegram, telegram_environment  # noqa: F401
from tests.helpers import lose_the_connection
from videobot import usage
from videobot.data import gates
from videobot.data import segments as segment_rows

FAST = {"IMAGE_FIRST_POLL_SECONDS": "0", "CLIP_FIRST_POLL_SECONDS": "0", "POLL_INTERVAL_SECONDS": "0"}


def _chat() -> int:
    return random.randint(6 * 10**9, 9 * 10**9)


def _told(fake, chat_id: int) -> list[str]:
    return [c.text() for c in fake.calls_to("sendMessage", chat_id=chat_id)]


def _ends_cleanly(db, outcome, fake, chat_id: int, reason: str, told: str, fault: bool = True) -> None:
    # a fault fails the execution (the alarm); the user's input (a refusal) ends it Succeeded
    events = execution_events(outcome)
    assert "RecordFailure" in events and ("JobFailed" in events) == fault
    assert outcome.execution_status == ("FAILED" if fault else "SUCCEEDED")
    assert outcome.job["status"] == "failed" and outcome.job["error_message"].startswith(reason)
    assert gates.open_gate_for_job(db, outcome.job["id"]) is None
    said = [t for t in _told(fake, chat_id) if t.startswith(told)]
    assert len(said) == 1 and outcome.job["id"] in said[0]


@pytest.fixture
def vendors(pipeline, fake_openai, fake_runway, fake_telegram):
    fake_telegram.reset()
    env = {
        **openai_vars(fake_openai),
        **runway_vars(fake_runway),
        **FAST,
        **telegram_environment(fake_telegram, ALLOWED_USER_IDS="*"),
    }
    with pipeline.using(pipeline.runtime_with(**env)):
        yield fake_openai, fake_runway, fake_telegram


def test_an_image_throttled_past_the_poll_budget_fails_cleanly_and_stops_the_tasks(db, pipeline, vendors):
    _, runway, telegram = vendors
    runway.plan("text_to_image", ["THROTTLED"], seed=5)  # stays THROTTLED for ever
    chat = _chat()
    with pipeline.using(pipeline.runtime_with(MAX_POLL_ATTEMPTS="4")):
        outcome = pipeline.run_job(
            "Реклама кофе", user_id=chat, chat_id=chat, timeout=180, overrides={"max_poll_attempts": 4}
        )

    _ends_cleanly(db, outcome, telegram, chat, "PollBudgetExceeded: segment 6", "⚠️ Сервис генерации сейчас недоступен")
    # Each image was created at most once (none after the job failed) ...
    seeds = [t.body["seed"] for t in runway.created("text_to_image")]
    assert 5 in seeds and len(seeds) == len(set(seeds)) and runway.created("image_to_video") == []
    # ... and every task of the job left unfinished (the stuck one, and any not yet stored when
    # the Map stopped) was stopped at Runway; only this job's tasks were. (A check already in
    # flight may still store an image whose task had just been stopped; and a task created in
    # the instant the job failed may be stopped twice: DELETE is idempotent.)
    (stuck,) = [t for t in runway.created("text_to_image") if t.body["seed"] == 5]
    deleted = {c.path.rsplit("/", 1)[1] for c in runway.calls("DELETE /v1/tasks/*")}
    segments = segment_rows.get_segments(db, outcome.job["id"])
    unfinished = {s["image_runway_task_id"] for s in segments if s["image_runway_task_id"] and not s["image_path"]}
    assert stuck.id in deleted and unfinished <= deleted
    assert deleted <= {t.id for t in runway.created("text_to_image")}


def test_a_refused_clip_fails_cleanly_naming_the_segment_and_is_not_resubmitted(db, pipeline, vendors):
    _, runway, telegram = vendors
    runway.plan("image_to_video", ["RUNNING", "FAILED"], seed=8, failure_code="SAFETY.OUTPUT.VIDEO")
    chat = _chat()
    with pipeline.using(
        pipeline.runtime_with(MAX_GATE_REVISIONS="0")
    ):  # no rounds left for the refused segment's pause
        outcome = pipeline.run_job("Реклама кофе", user_id=chat, chat_id=chat, timeout=180)

    _ends_cleanly(
        db, outcome, telegram, chat, "ContentRefused: segment 9", "🚫 Сервис генерации отказался", fault=False
    )
    assert "SAFETY.OUTPUT.VIDEO" in outcome.job["error_message"]
    assert len([t for t in runway.created("image_to_video") if t.body["seed"] == 8]) == 1


def test_postgresql_connection_lost_in_the_middle_of_stages_is_retried_without_redoing_their_paid_work(
    db, pipeline, vendors, monkeypatch
):
    """#36: the connection dies after each stage's paid work was done: GenerateScript's after the
    script was written, paid for and stored, before the stage returned; a SubmitImage's after
    Runway accepted its task and the ledger attached it, before the segment recorded it. Both are
    retried by the state machine; neither pays again, and the job goes on to the images gate."""
    _, runway, _ = vendors
    lost: list[str] = []
    real_script, real_record = generate_script_app.generate_script, segment_rows.record_task

    def generate_script(rt, *args, **kwargs):
        result = real_script(rt, *args, **kwargs)
        if "script" not in lost:
            lost.append("script")
            lose_the_connection(rt.db)
        return result

    def record_task(db_, *args, **kwargs):
        if "image" not in lost:
            lost.append("image")
            lose_the_connection(db_)
        return real_record(db_, *args, **kwargs)

    monkeypatch.setattr(generate_script_app, "generate_script", generate_script)
    monkeypatch.setattr(segment_rows, "record_task", record_task)
    seen = []

    def decider(job, gate):
        seen.append(gate["stage"])
        return gate["stage"] == "script"  # approve the script, reject at the images

    outcome = pipeline.run_job("Реклама кофе", decider, timeout=180)

    events = [*outcome.history, *(e for child in outcome.children for e in child)]  # SubmitImage's: a child's
    failures = [e for e in events if "DatabaseUnavailable" in json.dumps(e, default=str)]
    assert lost == ["script", "image"] and len(failures) >= 2  # both stages failed once, visibly, and were retried
    assert seen == ["script", "images"] and outcome.job["status"] == "cancelled"  # ended by the user, not the fault
    paid = usage.rows(db, outcome.job["id"])
    assert len([r for r in paid if r["stage"] == "generate_script"]) == 1  # the script was paid for once
    seeds = sorted(t.body["seed"] for t in runway.created("text_to_image"))
    assert seeds == list(range(10))  # one task per segment: the lost one was polled, not paid again
    images = [r for r in paid if r["stage"] == "generate_images" and r["task_id"]]
    assert sorted(r["task_id"] for r in images) == sorted(t.id for t in runway.created("text_to_image"))
