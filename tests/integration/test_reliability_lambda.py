"""Reliability matrix, Lambda timeouts and crashes as on AWS: the local Lambda endpoint
enforces each function's Timeout from template.yaml and answers Sandbox.Timedout, runs an
asynchronous (Event) invocation as Lambda does, and the state machine retries the idempotent
stages on Sandbox.Timedout and Lambda.Unknown."""

from __future__ import annotations

import json
import threading

import boto3

from local import template as tpl
from local.lambda_endpoint import LambdaEndpoint
from local.runner import execution_events
from tests.helpers import replace_part
from videobot.data import segments as segment_rows


def test_the_endpoint_answers_a_function_past_its_timeout_as_lambda_does():
    released = threading.Event()

    def slow(event, context):
        released.wait(30)
        return {"late": True}

    endpoint = LambdaEndpoint({"SlowFunction": slow}, {"SlowFunction": 0.5}).start()
    try:
        client = boto3.client("lambda", endpoint_url=endpoint.url, region_name="us-east-1")
        answer = client.invoke(FunctionName="SlowFunction", Payload=b"{}")
        body = json.loads(answer["Payload"].read())
        assert answer["FunctionError"] == "Unhandled"
        assert body["errorType"] == "Sandbox.Timedout"
        assert "Task timed out after 0.50 seconds" in body["errorMessage"]
    finally:
        released.set()
        endpoint.stop()


def test_an_event_invocation_is_answered_202_at_once_run_in_the_background_and_retried_twice():
    """As Lambda runs InvocationType=Event: 202 with no payload before the handler has run, the
    handler in the background, a run that raised (or timed out) run again, at most twice."""
    released, runs = threading.Event(), []

    def slow(event, context):
        released.wait(30)
        runs.append(event)
        return {"done": True}

    def failing(event, context):
        runs.append(event)
        raise RuntimeError("boom")

    endpoint = LambdaEndpoint(
        {"SlowFunction": slow, "FailingFunction": failing},
        {"SlowFunction": 60, "FailingFunction": 5},
        async_retry_delays=(0.05, 0.05),
    ).start()
    try:
        client = boto3.client("lambda", endpoint_url=endpoint.url, region_name="us-east-1")
        answer = client.invoke(FunctionName="SlowFunction", InvocationType="Event", Payload=b'{"n": 1}')
        assert answer["StatusCode"] == 202 and answer["Payload"].read() == b""
        assert runs == [] and endpoint.in_flight >= 1  # answered while the handler still waits
        released.set()
        assert endpoint.wait_idle(10) and runs == [{"n": 1}]
        assert client.invoke(FunctionName="FailingFunction", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
        assert endpoint.wait_idle(10)
        assert [r for r in endpoint.async_runs if r[0] == "FailingFunction"] == [
            ("FailingFunction", 0, "RuntimeError"),
            ("FailingFunction", 1, "RuntimeError"),
            ("FailingFunction", 2, "RuntimeError"),
        ]
        assert endpoint.async_runs[0] == ("SlowFunction", 0, "ok")
    finally:
        released.set()
        endpoint.stop()


def test_every_function_gets_its_template_timeout():
    template = tpl.load_template()
    timeouts = tpl.function_timeouts(template)
    assert timeouts["WebhookFunction"] == 29 and timeouts["AssembleVideoFunction"] >= 300
    assert set(timeouts) == set(tpl.functions(template))


class _KilledAfterAccepting:
    """The images provider, except that the first check of segment 1's task (the task id is
    stored by then) outlives the Lambda's timeout: that invocation is killed."""

    def __init__(self, real):
        self.real, self.released, self.blocked = real, threading.Event(), []
        self.submitted: list[str] = []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def submit(self, request):
        task_id = self.real.submit(request)
        self.submitted.append(task_id)
        return task_id

    def get_task(self, task_id):
        if not self.blocked and task_id == self.submitted[0]:
            self.blocked.append(task_id)
            self.released.wait(60)
            raise RuntimeError("this sandbox was killed")  # the dropped invocation ends
        return self.real.get_task(task_id)


def test_a_stage_killed_after_the_vendor_accepted_is_retried_and_creates_nothing_new(rt, db, pipeline, monkeypatch):
    images = _KilledAfterAccepting(rt.images)
    replace_part(monkeypatch, rt, "images", images)
    monkeypatch.setitem(pipeline.endpoint.timeouts, "SubmitImageFunction", 2.0)
    before = len(pipeline.endpoint.invocations)
    try:
        outcome = pipeline.run_job("Реклама кофе", lambda job, gate: gate["stage"] == "script", timeout=300)
    finally:
        images.released.set()
    job = outcome.job
    history = [e for child in outcome.children for e in child]  # SubmitImage runs in each segment's child
    timed_out = [e for e in history if (e.get("taskFailedEventDetails") or {}).get("error") == "Sandbox.Timedout"]
    assert len(timed_out) == 1  # the kill happened, as AWS reports it
    invoked = pipeline.endpoint.invocations[before:]
    # ... and SubmitImage ran again, once: ten in the Map's first pass (segment 0, and the nine
    # blocked until its image exists), ten in the second (segment 0 found done), and the retry
    assert invoked.count("SubmitImageFunction") == 21
    assert "AwaitImageApproval" in execution_events(outcome)  # the retry went on to the gate
    assert len(images.submitted) == len(set(images.submitted)) == 10  # one task per segment, none new
    first = images.blocked[0]
    assert [
        s.image_runway_task_id for s in segment_rows.get_segments(db, job["id"]) if s.image_runway_task_id == first
    ] in ([first], [])  # the stored id was polled, not replaced
    assert job["status"] == "cancelled"  # rejected at the images gate
