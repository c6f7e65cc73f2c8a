"""Reliability matrix, feedback applied once (issue 21, item 8): a typed or spoken revision is
keyed by its Telegram update, so no redelivery, lost answer, failed finish, killed webhook or
retried worker revises (and pays Runway) twice, and the next round's question is asked."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.fakes.telegram_fixtures import TelegramUser, lambda_poster
from tests.helpers import job_at_gate, new_job, replace_part, use
from videobot import control
from videobot.data import gates, jobs, updates
from videobot.data import segments as segment_rows
from videobot.errors import DatabaseUnavailable
from videobot.pipeline import GateId
from videobot.stages.request_approval import request_approval
from videobot.stages.revise_stage import revise_stage
from videobot.telegram import texts


class Killed(BaseException):
    """The webhook's Lambda ending mid-call: nothing of ours runs after it."""


class TokenStepFunctions:
    """Step Functions' task tokens: a token takes one answer; a second answer on it is
    TaskTimedOut. `faults` says what the next calls meet: "lose_answer" (it lands, the answer
    is lost: a read timeout), "kill" (it lands, the caller dies), "throttle" (nothing lands)."""

    def __init__(self):
        self.landed: list[tuple[str, str]] = []  # (token, output)
        self.faults: list[str] = []
        self._lock = threading.Lock()

    def send_task_success(self, *, taskToken, output):
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
            if fault == "throttle":
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "SendTask")
            if any(token == taskToken for token, _ in self.landed):
                raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "Task Timed Out"}}, "SendTaskSuccess")
            self.landed.append((taskToken, output))
        if fault == "lose_answer":
            raise ReadTimeoutError(endpoint_url="https://states.eu-west-1.amazonaws.com")
        if fault == "kill":
            raise Killed("Sandbox.Timedout")
        return {}


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


@pytest.fixture
def tokens(rt, monkeypatch):
    tokens = TokenStepFunctions()
    replace_part(monkeypatch, rt, "sfn", tokens)
    return tokens


def _the_execution_goes_on(rt, job_id: str, stage: str = "images") -> None:
    """What Step Functions does with the landed revision: ReviseStage, then the gate again."""
    revise_stage(rt, job_id, GateId(stage))
    request_approval(rt, job_id, GateId(stage), f"token-{job_id}-round-2")


def test_a_revision_whose_answer_was_lost_is_applied_once_and_asked_about(rt, db, user, tokens):
    """M10: "переделай 3" at the image gate; SendTaskSuccess lands but its answer is lost. The
    webhook answers 500; the revision stays taken (it used to be undone, so Telegram's
    redelivery revised again, paying Runway twice, and the next round's question, under the
    old round's key, was never sent). The redelivery sends it again on the same token, learns
    it landed, and the gate's next round is asked."""
    job = job_at_gate(db, user, "images")
    segment_rows.create_segments(db, job["id"], [f"Часть {i}" for i in range(10)], 5.0)
    tokens.faults = ["lose_answer"]
    update = user.message_update("переделай 3 светлее")
    assert user.post(update) == 500
    gate = gates.get_gate(db, job["id"], GateId("images"))
    assert gate.decision == "revised" and gate.revisions == 1 and gate.redo_segments == [2]
    assert user.post(update) == 200  # Telegram's redelivery
    assert len(tokens.landed) == 1 and '"segments": [2]' in tokens.landed[0][1]
    assert gates.get_gate(db, job["id"], GateId("images")).resumed_at is not None
    assert len(user.texts()) == 1 and "3" in user.texts()[0]  # told once what is being redone

    _the_execution_goes_on(rt, job["id"])
    assert user.texts()[-1].startswith("🖼") and "3" in user.texts()[-1]  # round 1's question
    assert user.post(update) == 200  # a late redelivery still changes nothing
    assert len(tokens.landed) == 1 and gates.get_gate(db, job["id"], GateId("images")).revisions == 1


def test_a_revision_survives_a_failed_finish_and_a_killed_webhook(rt, db, user, tokens, monkeypatch):
    """M11: the webhook revised, then finish_update failed (PostgreSQL lost): Telegram
    redelivers after the claim's lease, and the revision is not made again. Then a webhook
    killed right after its SendTaskSuccess landed: the redelivery sends it again on the same
    token (TaskTimedOut: it landed), once."""
    job = job_at_gate(db, user, "script")
    first = user.message_update("перепиши: веселее")
    real_finish = updates.finish_update

    def finish_fails(db_, update_id):
        raise DatabaseUnavailable("connection lost")

    monkeypatch.setattr(updates, "finish_update", finish_fails)
    with pytest.raises(DatabaseUnavailable):
        user.post(first)
    monkeypatch.setattr(updates, "finish_update", real_finish)
    monkeypatch.setattr(updates, "CLAIM_LEASE_SECONDS", 0)  # the claim's lease is over
    assert user.post(first) == 200
    assert len(tokens.landed) == 1 and gates.get_gate(db, job["id"], GateId("script")).revisions == 1

    other = job_at_gate(db, user, "images")
    killed = user.message_update("переделай 5")
    tokens.faults = ["kill"]
    with pytest.raises(Killed):
        user.post(killed)
    assert gates.get_gate(db, other["id"], GateId("images")).resumed_at is None
    assert user.post(killed) == 200
    assert [t for t, _ in tokens.landed].count(f"token-{other['id']}") == 1
    gate = gates.get_gate(db, other["id"], GateId("images"))
    assert gate.revisions == 1 and gate.resumed_at is not None and gate.redo_segments == [4]


def test_a_throttled_answer_is_retried_with_backoff_then_the_user_is_told_to_try_again(
    setup, rt, db, user, tokens, monkeypatch
):
    """M12 (item 9): SendTaskSuccess throttled (nothing landed) is tried again with backoff and
    lands once; throttled past AWS_THROTTLE_ATTEMPTS (the webhook's 2), the revision is undone
    (the gate waits at its round) and the user is told to try again, where the update used to
    end 200 in silence. Their next message revises, once."""
    monkeypatch.setattr(control, "THROTTLE_BACKOFF_SECONDS", 0)
    job = job_at_gate(db, user, "images")
    tokens.faults = ["throttle"]
    with use(setup, AWS_THROTTLE_ATTEMPTS="2"):
        assert user.say("переделай 2") == 200
    assert len(tokens.landed) == 1 and gates.get_gate(db, job["id"], GateId("images")).revisions == 1
    assert "2" in user.texts()[-1]

    other = job_at_gate(db, user, "script")
    tokens.faults = ["throttle"] * 2
    with use(setup, AWS_THROTTLE_ATTEMPTS="2"):
        assert user.say("перепиши: короче") == 200
    gate = gates.get_gate(db, other["id"], GateId("script"))
    assert gate.decided_at is None and gate.revisions == 0 and gate.revised_by_update is None
    assert user.texts()[-1] == texts.text("ru", "try_again")
    assert user.say("перепиши: короче") == 200
    assert [t for t, _ in tokens.landed].count(f"token-{other['id']}") == 1


class _ThrottledStop:
    def __init__(self):
        self.stops = 0

    def stop_execution(self, **kwargs):
        self.stops += 1
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StopExecution")


def test_a_throttled_cancel_is_retried_then_the_user_is_told_to_try_again(setup, rt, db, user, monkeypatch):
    """M13 (item 9): ❌ between gates, StopExecution throttled every time: tried with backoff
    (AWS_THROTTLE_ATTEMPTS, 4 here), then "try again"; the job goes on as it was (nothing
    half-cancelled)."""
    monkeypatch.setattr(control, "THROTTLE_BACKOFF_SECONDS", 0)
    stop = _ThrottledStop()
    replace_part(monkeypatch, rt, "sfn", stop)
    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(db, job["id"], status="generating_images", execution_arn="arn:aws:states:x:1:execution:p:j")
    with use(setup, AWS_THROTTLE_ATTEMPTS="4"):
        assert user.say("❌ Отклонить") == 200
    assert stop.stops == 4
    assert jobs.get_job(db, job["id"]).status == "generating_images"
    assert user.texts() == [texts.text("ru", "try_again")]


def test_spoken_feedback_keeps_its_claim_until_its_words_are_taken(setup, rt, db, user, tokens, fake_openai):
    """M14: "🎙 Распознано" said, then SendTaskSuccess's answer lost: the worker fails for
    Lambda's retry. The retry does not say it heard again and applies the revision once (the
    update's claim used to stay taken, so the retry answered "duplicate" and the spoken
    feedback was lost)."""
    from handle_slow_update.app import lambda_handler as handle_slow_update

    from tests.fakes.fixtures import openai_vars

    job = job_at_gate(db, user, "images")
    user.fake.add_file("AwACAgIAAxkBAAIC-voice", b"OggS\x00\x02" + bytes(range(256)) * 20)
    fake_openai.transcribe_next("переделай 4")
    fake_openai.transcribe_next("переделай 4")
    update = user.message_update(template="telegram_message_voice")
    update["message"]["voice"].update({"file_id": "AwACAgIAAxkBAAIC-voice", "file_size": 5122})
    event = {"kind": "voice_feedback", "message": update["message"], "lang": "ru", "update_id": update["update_id"]}
    tokens.faults = ["lose_answer"]
    with use(setup, **openai_vars(fake_openai)) as tuned:
        with pytest.raises(Exception):  # noqa: B017 - whatever Lambda reports, it retries the event
            handle_slow_update.run(tuned, event)
        assert handle_slow_update.run(tuned, event) == {"handled": True, "outcome": "feedback"}
        assert handle_slow_update.run(tuned, event) == {"handled": False, "duplicate": True}
    heard = [t for t in user.texts() if t.startswith("🎙")]
    assert heard == ["🎙 Распознано: «переделай 4»"]
    assert len(tokens.landed) == 1 and '"segments": [3]' in tokens.landed[0][1]
    gate = gates.get_gate(db, job["id"], GateId("images"))
    assert gate.revisions == 1 and gate.resumed_at is not None
