"""Shared by the reliability matrix (tests/*/test_reliability_*.py): a Step Functions client
that records what the bot asks of it, so webhook-level scenarios run without executions."""

from __future__ import annotations

import threading

import pytest

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:reliability"


class RecordingStepFunctions:
    """Answers start_execution / send_task_* / stop_execution like Step Functions, recording
    each call (thread-safe). `name` of an execution is unique, as on AWS."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self._names: set[str] = set()

    def _record(self, name: str, kwargs: dict) -> None:
        with self._lock:
            self.calls.append((name, kwargs))

    def start_execution(self, **kwargs):
        from botocore.exceptions import ClientError

        with self._lock:
            if kwargs["name"] in self._names:
                raise ClientError({"Error": {"Code": "ExecutionAlreadyExists", "Message": "x"}}, "StartExecution")
            self._names.add(kwargs["name"])
        self._record("StartExecution", kwargs)
        return {"executionArn": ARN.replace(":stateMachine:", ":execution:") + ":" + kwargs["name"]}

    def describe_execution(self, **kwargs):
        from botocore.exceptions import ClientError

        name = kwargs["executionArn"].rsplit(":", 1)[-1]
        with self._lock:
            if name not in self._names:
                raise ClientError({"Error": {"Code": "ExecutionDoesNotExist", "Message": "x"}}, "DescribeExecution")
        return {"executionArn": kwargs["executionArn"], "status": "RUNNING"}

    def send_task_success(self, **kwargs):
        self._record("SendTaskSuccess", kwargs)
        return {}

    def send_task_failure(self, **kwargs):
        self._record("SendTaskFailure", kwargs)
        return {}

    def stop_execution(self, **kwargs):
        self._record("StopExecution", kwargs)
        return {}

    def named(self, name: str) -> list[dict]:
        return [kw for n, kw in self.calls if n == name]


@pytest.fixture
def sfn(setup):
    """The test's runtime with STATE_MACHINE_ARN set and its Step Functions client a recorder."""
    recorder = RecordingStepFunctions()
    setup.env["STATE_MACHINE_ARN"] = ARN
    setup.parts["sfn"] = recorder
    return recorder


def deliver_as_telegram(post, update: dict, *, deadline_seconds: float = 60) -> list[int]:
    """Deliver `update` as Telegram does: again after every non-2xx answer (Telegram backs off
    between deliveries; 50 ms here), until one is 2xx. Returns every status answered."""
    import time

    statuses = [post(update)]
    deadline = time.monotonic() + deadline_seconds
    while not 200 <= statuses[-1] < 300:
        assert time.monotonic() < deadline, f"never acknowledged: {statuses}"
        time.sleep(0.05)
        statuses.append(post(update))
    return statuses
