"""Approving and rejecting a gate: the decision is committed before Step Functions hears of
it (the next stage, or CancelJob, must read it), and a failed call reopens the gate."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.helpers import new_job, replace_part
from videobot import control
from videobot.data import gates, jobs
from videobot.errors import ControlUnavailable
from videobot.pipeline import GateId


class RecordingStepFunctions:
    """Stands in for the boto3 client; at each call it reads the gate from another
    connection, as the state machine's next Lambda would."""

    def __init__(self, db, job_id: str, stage: str, error_code: str | None = None):
        self.db, self.job_id, self.stage, self.error_code = db, job_id, stage, error_code
        self.seen: list[dict] = []

    def _call(self, name: str, **kwargs):
        self.seen.append(
            {
                "call": name,
                "gate": gates.get_gate(self.db, self.job_id, GateId.parse(self.stage)),
                "job": jobs.get_job(self.db, self.job_id),
            }
        )
        if self.error_code:
            raise ClientError({"Error": {"Code": self.error_code, "Message": "x"}}, name)
        return {}

    def send_task_success(self, **kwargs):
        return self._call("SendTaskSuccess", **kwargs)

    def send_task_failure(self, **kwargs):
        return self._call("SendTaskFailure", **kwargs)


@pytest.fixture
def gate(rt, db, monkeypatch):
    job = new_job(db)
    jobs.update_job(db, job["id"], status="awaiting_script_approval")
    gates.open_gate(db, job["id"], GateId("script"), "token-1")

    def install(error_code=None):
        fake = RecordingStepFunctions(db, job["id"], "script", error_code)
        replace_part(monkeypatch, rt, "sfn", fake)
        return job, fake

    return install


@pytest.mark.parametrize("approve", [True, False])
def test_the_decision_is_visible_before_step_functions_is_told(rt, gate, approve):
    job, sfn = gate()
    result = control.decide(rt, job["id"], GateId("script"), approve=approve)
    assert result.done and result.reason == ("approved" if approve else "rejected")
    (call,) = sfn.seen
    assert call["gate"]["decision"] == result.reason and call["gate"]["decided_at"] is not None
    if approve:
        assert call["job"]["status"] == "script_approved" and call["job"]["script_approved"] == 1
    # A second tap changes nothing and calls nobody.
    assert control.decide(rt, job["id"], GateId("script"), approve=approve).reason == "not_waiting"
    assert len(sfn.seen) == 1


def test_a_failed_call_reopens_the_gate(rt, db, gate):
    job, _sfn = gate("ThrottlingException")
    with pytest.raises(ControlUnavailable):  # throttled past the retries: the user is asked to try again
        control.decide(rt, job["id"], GateId("script"), approve=True)
    assert gates.get_gate(db, job["id"], GateId("script"))["decided_at"] is None
    row = jobs.get_job(db, job["id"])
    assert row["status"] == "awaiting_script_approval" and row["script_approved"] == 0


def test_an_expired_token_abandons_the_gate(rt, db, gate):
    job, _sfn = gate("TaskTimedOut")
    assert control.decide(rt, job["id"], GateId("script"), approve=False).reason == "expired"
    assert gates.get_gate(db, job["id"], GateId("script"))["decision"] == "abandoned"
