"""The metrics the operator's dashboard (template.yaml's OperatorDashboard) adds to the stages'
own: each emitted where its event happens, once per event (a retried Lambda counts nothing
twice), in CloudWatch's embedded metric format."""

from __future__ import annotations

import json
import uuid

import check_image.app as check_image
import deliver_video.app as deliver_video
import generate_script.app as generate_script
import pytest
import split_into_segments.app as split_into_segments
import submit_image.app as submit_image
import write_image_prompts.app as write_image_prompts

from tests.helpers import StartingStepFunctions, new_job, replace_part
from tests.unit.test_stages import ScriptedGenerator, _event
from videobot import control, lifecycle, usage
from videobot.data import jobs
from videobot.providers import base


@pytest.fixture
def metrics_on(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "VideoBot")


def _emitted(capsys, name: str) -> list[dict]:
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{") and '"_aws"' in line]
    return [m for m in map(json.loads, lines) if name in m]


def test_a_job_is_counted_started_once_and_ended_once_with_its_outcome(metrics_on, capsys, monkeypatch, rt, db):
    rt = rt.with_env(STATE_MACHINE_ARN="arn:aws:states:us-east-1:123456789012:stateMachine:vp")
    replace_part(monkeypatch, rt, "sfn", StartingStepFunctions())
    capsys.readouterr()
    update = int(uuid.uuid4().int % 10**9)
    start = {"user_id": 7_000_000_001, "chat_id": 7_000_000_001, "prompt": "x", "source_update_id": update}
    started, _ = control.start_job(rt, **start)
    control.start_job(rt, **start)  # a retry
    assert len(_emitted(capsys, "JobsStarted")) == 1

    ends = {
        "cancelled": lambda job_id: lifecycle.cancel_job(rt, job_id),
        "timed_out": lambda job_id: lifecycle.record_approval_timeout(rt, job_id),
        "failed": lambda job_id: lifecycle.record_failure(rt, job_id, {"Error": "VendorFailed", "Cause": "x"}),
        "delivered": lambda job_id: deliver_video.lambda_handler.run(rt, {"job_id": job_id}),
    }
    for outcome, end in ends.items():
        job = started if outcome == "cancelled" else new_job(db)
        end(job["id"])
        end(job["id"])  # the Lambda run again: counted once
        counted = _emitted(capsys, "JobsEnded")
        assert [(m["outcome"], m["JobsEnded"], m["service"]) for m in counted] == [(outcome, [1.0], "video-bot")]


def test_vendor_spend_is_emitted_as_it_is_settled_and_sums_to_the_jobs_cost(metrics_on, capsys, rt, db):
    job = new_job(db)
    capsys.readouterr()
    settings = rt.settings.with_values(LLM_PROVIDER="openai", OPENAI_API_KEY="sk-test")
    with usage.paid_call(db, settings, usage.llm_call(settings, job["id"], "generate_script", "script")) as bill:
        bill.llm({"calls": 1, "vendor": "openai", "model": "gpt-5.4-mini", "input_tokens": 1000, "output_tokens": 2000})
    with usage.paid_call(db, settings, usage.speech_call(settings, job["id"], 0, "x" * 90)) as bill:
        bill.speech(base.Speech(b"", "wav", characters=90, vendor="polly", model="standard"))
    estimate = {"vendor": "runway", "model": "gen4_turbo", "seconds": 5, "credits": 25}
    task = f"task-{uuid.uuid4().hex}"
    for _ in range(2):  # a retried Lambda finds its reservation: reserved once
        with usage.paid_call(
            db, settings, usage.task_call(job["id"], "generate_clips", 0, 1, estimate, "clip")
        ) as bill:
            bill.task(task)
    usage.settle_task(db, job["id"], task, 20)  # Runway reported less than estimated
    usage.settle_task(db, job["id"], task, 20)  # settled once
    emitted = _emitted(capsys, "VendorSpendUsd")
    spend = [(m["vendor"], m["VendorSpendUsd"][0]) for m in emitted]
    # US dollars: no CloudWatch unit (not the milliseconds put_metric defaults to)
    assert [m["_aws"]["CloudWatchMetrics"][0]["Metrics"] for m in emitted] == [
        [{"Name": "VendorSpendUsd", "Unit": "None"}]
    ] * 3
    assert [vendor for vendor, _ in spend] == ["openai", "polly", "runway"]
    assert spend[2][1] == pytest.approx(0.20)
    assert sum(usd for _, usd in spend) == pytest.approx(usage.summary(db, job["id"])["estimated_usd"], abs=1e-4)


class _RunwayScripted(ScriptedGenerator):
    def estimate(self, request):
        return {"vendor": "runway", "model": "gen4_image", "seconds": 0, "credits": 5}


def test_runways_queue_counts_each_queued_task_and_its_wait_once(metrics_on, capsys, monkeypatch, rt, db):
    states = ["THROTTLED", "THROTTLED", "RUNNING", "SUCCEEDED"]
    gen = _RunwayScripted([base.TaskState(s, output_url="https://vendor/out.png") for s in states])
    replace_part(monkeypatch, rt, "images", gen)
    job = new_job(db)
    event = _event(job, {"poll_interval_seconds": 1, "image_first_poll_seconds": 0}, segment_index=0)
    generate_script.lambda_handler.run(rt, _event(job))
    split_into_segments.lambda_handler.run(rt, _event(job))
    write_image_prompts.lambda_handler.run(rt, _event(job))
    capsys.readouterr()
    step = submit_image.lambda_handler.run(rt, event)  # submitted, THROTTLED
    while step["state"] == "waiting":
        step = check_image.lambda_handler.run(rt, {**event, "attempt": step["attempt"]})
    out = capsys.readouterr().out
    metrics = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]
    assert [m["kind"] for m in metrics if "RunwayTasksQueued" in m] == ["image"]
    waited = [m["RunwayQueueSeconds"][0] for m in metrics if "RunwayQueueSeconds" in m]
    assert len(waited) == 1 and waited[0] >= 0
    assert jobs.get_job(db, job["id"])["status"] != "failed"
