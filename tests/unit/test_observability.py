"""Metrics in CloudWatch's embedded metric format: a stage's duration and outcome, and each
vendor call's latency and errors."""

from __future__ import annotations

import json

import pytest

from videobot.observability import metrics_for_vendor_call, stage_handler


def _emf(capsys) -> list[dict]:
    return [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{") and '"_aws"' in line
    ]


@pytest.fixture
def metrics_on(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "VideoBotTest")


def test_a_stage_reports_its_duration_and_outcome(metrics_on, capsys):
    @stage_handler("generate_script")
    def ok(event, context=None):
        return {"ok": True}

    @stage_handler("generate_script")
    def broken(event, context=None):
        raise ValueError("no")

    capsys.readouterr()
    ok({"job_id": "j1"})
    with pytest.raises(ValueError):
        broken({"job_id": "j1"})
    metrics = [m for m in _emf(capsys) if "StageDuration" in m]
    assert [(m["stage"], m["outcome"]) for m in metrics] == [
        ("generate_script", "succeeded"),
        ("generate_script", "ValueError"),
    ]
    assert all(m["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "VideoBotTest" for m in metrics)
    assert all(m["StageDuration"][0] >= 0 for m in metrics)


def test_a_vendor_call_reports_latency_and_errors(metrics_on, capsys):
    capsys.readouterr()
    with metrics_for_vendor_call("image", "submit"):
        pass
    with pytest.raises(RuntimeError), metrics_for_vendor_call("video", "get_task"):
        raise RuntimeError("503")
    names = [(next(k for k in ("VendorCallDuration", "VendorCallErrors") if k in m), m["kind"]) for m in _emf(capsys)]
    assert names == [("VendorCallDuration", "image"), ("VendorCallErrors", "video"), ("VendorCallDuration", "video")]


def test_metrics_stay_out_of_the_output_when_disabled(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "1")
    capsys.readouterr()
    with metrics_for_vendor_call("image", "submit"):
        pass
    assert _emf(capsys) == []
