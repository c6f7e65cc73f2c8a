"""Reliability matrix, every execution's end reaches the job and the user: the local runner
delivers EventBridge's "Step Functions Execution Status Change" events (FAILED, TIMED_OUT,
ABORTED) from the executions it runs to ReconcileExecutionFunction, as the template's rule
does on AWS."""

from __future__ import annotations

import itertools
import os

import pytest

from local.runner import execution_events
from tests.helpers import RefusingImages, replace_part
from videobot import lifecycle
from videobot.data import jobs

_chats = itertools.count(9_100_000_000 + os.getpid() * 100)


class _Told:
    def __init__(self):
        self.events = []

    def send(self, job, event):
        self.events.append((job.id, type(event).__name__, getattr(event, "outcome", None)))


def test_a_failing_record_failure_is_reconciled_from_the_execution_event(rt, db, pipeline, monkeypatch):
    told = _Told()
    replace_part(monkeypatch, rt, "notifier", told)
    replace_part(monkeypatch, rt, "images", RefusingImages())

    def broken(event, context=None):
        raise RuntimeError("RecordFailure itself failed")

    monkeypatch.setitem(pipeline.endpoint.handlers, "RecordFailureFunction", broken)
    chat = next(_chats)
    outcome = pipeline.run_job("Реклама кофе", timeout=300, user_id=chat, chat_id=chat)

    assert outcome.execution_status == "FAILED" and "RecordFailure" in execution_events(outcome)
    job = outcome.job
    assert job["status"] == "failed"  # not left running for ever
    assert job["error_message"].startswith("JobFailed")  # the execution's own error, recorded
    assert jobs.active_job_for_chat(db, job["chat_id"]) is None  # the chat is free for a new topic
    ended = [e for e in told.events if e[0] == job["id"] and e[1] == "JobEnded"]
    assert len(ended) == 1  # the user hears once
    event = pipeline.delivered[job["execution_arn"]]
    assert event["detail-type"] == "Step Functions Execution Status Change"
    assert event["detail"]["status"] == "FAILED" and event["detail"]["name"] == job["id"]
    # EventBridge may deliver an event twice: the second changes nothing and says nothing (the
    # user was told: issue 21 item 5)
    assert lifecycle.reconcile_execution(rt, event["detail"]) == {
        "reconciled": False,
        "status": "failed",
        "told": False,
    }
    assert jobs.get_job(db, job["id"])["end_told_at"] is not None
    assert len([e for e in told.events if e[0] == job["id"] and e[1] == "JobEnded"]) == 1


@pytest.mark.parametrize(
    ("status", "error", "ended", "reason"),
    [
        ("TIMED_OUT", None, "failed", "States.Timeout"),
        ("ABORTED", None, "cancelled", "cancelled by the user"),  # stopped from the console
        ("FAILED", None, "failed", "States.Runtime"),
        # RecordApprovalTimeout itself failed (RecordApprovalTimeoutFailed): still the user's timeout
        ("FAILED", "ApprovalTimedOut", "timed_out", "no answer at the"),
    ],
)
def test_each_ended_execution_status_ends_its_job_once(rt, db, monkeypatch, status, error, ended, reason):
    told = _Told()
    replace_part(monkeypatch, rt, "notifier", told)
    chat = next(_chats)
    job, _ = jobs.create_job(db, user_id=chat, chat_id=chat, prompt="Реклама кофе")
    detail = {"name": job.id, "status": status, "error": error}
    result = lifecycle.reconcile_execution(rt, detail)
    assert result == {"reconciled": True, "status": ended}
    assert jobs.get_job(db, job.id).status == ended and jobs.get_job(db, job.id).error_message.startswith(reason)
    assert jobs.active_job_for_chat(db, chat) is None
    assert lifecycle.reconcile_execution(rt, detail)["reconciled"] is False
    assert [e[1] for e in told.events if e[0] == job.id] == ["JobEnded"]
