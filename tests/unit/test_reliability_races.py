"""Reliability matrix, duplicates and races, spoken in Telegram's protocol (Update JSON to the
webhook handler, answers from the fake Bot API) against real PostgreSQL, with a Step Functions
client that records every StartExecution / SendTask* call: whatever arrives twice or at once,
one job starts, one gate decision reaches Step Functions, and every update is answered."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fakes.telegram_fixtures import TelegramUser, fake_telegram, lambda_poster, telegram  # noqa: F401
from tests.helpers import new_job, use
from tests.reliability_support import deliver_as_telegram, sfn  # noqa: F401
from videobot import lifecycle
from videobot.data import gates, jobs
from videobot.data import updates as store
from videobot.pipeline import GateId
from videobot.telegram import texts, ui

ROUNDS = 4  # each race is run this many times on fresh jobs, to meet the overlap more than once


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


def _at_once(post, updates: list[dict]) -> list[int]:
    """Deliver the updates from as many threads, released together."""
    barrier = threading.Barrier(len(updates))

    def go(update):
        barrier.wait()
        return post(update)

    with ThreadPoolExecutor(len(updates)) as pool:
        return list(pool.map(go, updates))


def _waiting_job(db, user: TelegramUser, stage: str = "script") -> dict:
    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(
        db,
        job["id"],
        status={
            "script": "awaiting_script_approval",
            "images": "awaiting_image_approval",
            "videos": "awaiting_video_approval",
        }[stage],
    )
    gates.open_gate(db, job["id"], GateId.parse(stage), f"token-{job['id']}")
    return job


def _decisions(sfn, job: dict) -> list[str]:
    token = f"token-{job['id']}"
    return [name for name, kw in sfn.calls if kw.get("taskToken") == token]


def test_the_same_topic_update_delivered_ten_times_at_once_makes_one_job(db, user, sfn):
    update = user.message_update("Реклама кофе")
    first = _at_once(user.post, [update] * 10)
    # one delivery handles it; one still in progress is answered 409 (never a 2xx that would
    # end Telegram's redelivery of an update that may never finish), a finished one 200
    assert set(first) <= {200, 409} and first.count(200) >= 1
    for status in first:
        if status == 409:
            assert deliver_as_telegram(user.post, update)[-1] == 200
    rows = db.query(f"SELECT id FROM {jobs.JOBS} WHERE chat_id = %s", (user.chat_id,))
    assert len(rows) == 1
    assert [c["name"] for c in sfn.named("StartExecution")] == [rows[0]["id"]]
    assert len(user.texts()) == 1 and user.texts()[0].startswith("✅ Запрос принят! ID: " + rows[0]["id"])


def test_a_claim_left_by_a_killed_webhook_is_taken_over_after_its_lease(db, user, sfn):
    # Given a webhook that claimed the update and died before answering (Lambda timeout)
    update = user.message_update("Реклама кофе")
    assert store.claim_update(db, update["update_id"])
    # Then Telegram's redelivery within the lease is answered 409: not handled twice (the first
    # may still be running), and not acknowledged either, so Telegram keeps delivering it
    assert user.post(update) == 409 and user.texts() == []
    assert (
        db.query_one(f"SELECT handled_at FROM {store.UPDATES} WHERE update_id = %s", (update["update_id"],))[
            "handled_at"
        ]
        is None
    )
    # ... and once the lease is over, it is handled: the update is not lost
    db.execute(
        f"UPDATE {store.UPDATES} SET received_at = received_at - interval '61 seconds' WHERE update_id = %s",
        (update["update_id"],),
    )
    assert user.post(update) == 200
    assert len(user.texts()) == 1 and user.texts()[0].startswith("✅ Запрос принят!")
    assert len(sfn.named("StartExecution")) == 1
    # A handled update is never taken over, however old
    db.execute(
        f"UPDATE {store.UPDATES} SET received_at = received_at - interval '1 day' WHERE update_id = %s",
        (update["update_id"],),
    )
    assert user.post(update) == 200 and len(user.texts()) == 1


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_approve_taps_at_once_resume_the_gate_once(db, user, sfn, round_):
    job = _waiting_job(db, user)
    data = ui.callback_data(True, job["id"], "script")
    assert _at_once(user.post, [user.callback_update(data), user.callback_update(data)]) == [200, 200]

    assert _decisions(sfn, job) == ["SendTaskSuccess"]
    assert sorted(user.callback_answers()[-2:]) == sorted(
        ["✅ Утверждено", "Этот этап уже утверждён. Повторное нажатие ничего не меняет."]
    )
    assert jobs.get_job(db, job["id"])["status"] == "script_approved"
    (said,) = user.texts()
    assert said.startswith("✅ Сценарий утверждён!")


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_approve_and_reject_at_once_end_in_one_consistent_outcome(db, user, sfn, round_):
    job = _waiting_job(db, user, "images")
    taps = [
        user.callback_update(ui.callback_data(True, job["id"], "images")),
        user.callback_update(ui.callback_data(False, job["id"], "images")),
    ]
    assert _at_once(user.post, taps) == [200, 200]

    (call,) = _decisions(sfn, job)
    gate = gates.get_gate(db, job["id"], GateId("images"))
    status = jobs.get_job(db, job["id"])["status"]
    if call == "SendTaskSuccess":
        assert gate["decision"] == "approved" and status == "images_approved"
    else:
        assert gate["decision"] == "rejected" and status == "awaiting_image_approval"  # CancelJob clears it
    answers = user.callback_answers()[-2:]
    assert len(answers) == 2 and any("уже" in a for a in answers)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_keyboard_approve_and_reject_at_once_end_in_one_consistent_outcome(rt, db, user, sfn, round_):
    job = _waiting_job(db, user)
    both = [user.message_update("✅ Подтвердить"), user.message_update("❌ Отклонить")]
    assert _at_once(user.post, both) == [200, 200]

    calls = _decisions(sfn, job)
    gate = gates.get_gate(db, job["id"], GateId("script"))
    status = jobs.get_job(db, job["id"])["status"]
    if calls == ["SendTaskSuccess"]:
        # approve won; the reject found no open gate and cancelled the job between gates:
        # the execution stopped and the job cleared (gate rows too), or the reject came first
        # to an already-approved job; either way one decision reached Step Functions
        approved = status == "script_approved" and gate["decision"] == "approved"
        assert (status == "cancelled" and gate is None) or approved
        if status == "cancelled":  # the reject's answer: the job cancelled between gates, once
            assert sum(t.startswith(f"❌ Задача {job['id']} отменена") for t in user.texts()) == 1
        else:
            assert texts.text("ru", "nothing_to_reject") in user.texts()
    else:
        assert calls == ["SendTaskFailure"] and gate["decision"] == "rejected"
        assert sfn.named("StopExecution") == [] and status == "awaiting_script_approval"
        # the reject's answer comes from CancelJob, which the state machine runs on "Rejected"
        lifecycle.cancel_job(rt, job["id"])
        assert user.texts()[-1].startswith(f"❌ Задача {job['id']} отменена на этапе сценария")
    approved_said = texts.text("ru", "approved_script", voiceover="")
    assert (approved_said in user.texts()) == (calls == ["SendTaskSuccess"])  # the approve's answer agrees


def test_a_new_topic_during_an_active_job_starts_nothing_and_says_why(db, user, sfn):
    # between gates: at an open gate the text would be feedback (tests/unit/telegram/test_conversation.py)
    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(db, job["id"], status="generating_images")
    assert user.say("Реклама чая") == 200
    (reply,) = user.texts()
    assert reply.startswith(f"⏳ У вас уже есть задача в работе: {job['id']}.")
    assert sfn.named("StartExecution") == []
    assert [r["id"] for r in db.query(f"SELECT id FROM {jobs.JOBS} WHERE chat_id = %s", (user.chat_id,))] == [job["id"]]


def test_many_topics_from_one_chat_at_once_start_one_job(db, user, sfn):
    updates = [user.message_update(f"Тема {i}") for i in range(8)]
    assert _at_once(user.post, updates) == [200] * 8
    assert len(db.query(f"SELECT id FROM {jobs.JOBS} WHERE chat_id = %s", (user.chat_id,))) == 1
    assert len(sfn.named("StartExecution")) == 1
    replies = user.texts()
    assert len(replies) == 8 and sum(r.startswith("✅ Запрос принят!") for r in replies) == 1


def test_postgresql_down_at_the_webhook_is_a_503_then_the_redelivery_is_handled(setup, user, sfn):
    update = user.message_update("Реклама кофе")
    with use(setup, DATABASE_URL="postgresql://nobody@127.0.0.1:9/none?connect_timeout=1"):
        assert user.post(update) == 503  # Telegram redelivers on a non-2xx
    assert user.texts() == [] and sfn.named("StartExecution") == []
    assert user.post(update) == 200
    assert len(user.texts()) == 1 and user.texts()[0].startswith("✅ Запрос принят!")


def test_postgresql_lost_while_handling_releases_the_update_for_the_redelivery(rt, user, sfn, monkeypatch):
    from videobot import control
    from videobot.errors import DatabaseUnavailable

    real, calls = control.start_job, []

    def lost_once(rt, **kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise DatabaseUnavailable("PostgreSQL connection lost: OperationalError")
        return real(rt, **kwargs)

    monkeypatch.setattr("videobot.control.start_job", lost_once)
    update = user.message_update("Реклама кофе")
    assert user.post(update) == 500
    assert user.post(update) == 200
    assert len(sfn.named("StartExecution")) == 1 and len(user.texts()) == 1
