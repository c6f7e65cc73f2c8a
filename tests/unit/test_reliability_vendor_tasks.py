"""Reliability matrix, vendor tasks and money: a job that ends early stops its Runway tasks
still running, and a job already over never pays for another task (the real Runway client
against the fake)."""

from __future__ import annotations

import pytest

from tests.helpers import replace_part
from videobot import control, lifecycle
from videobot.data import jobs
from videobot.data import segments as segment_rows
from videobot.errors import JobCancelled
from videobot.stages import generate_images


def _deleted(runway) -> list[str]:
    return [c.path.rsplit("/", 1)[1] for c in runway.calls("DELETE /v1/tasks/*")]


def test_a_failed_job_stops_its_running_tasks_once_and_leaves_finished_ones(rt, db, prompted_job, runway_env):
    job_id = prompted_job["id"]
    runway_env.plan("text_to_image", ["RUNNING"], seed=2)  # never finishes
    runway_env.plan("text_to_image", ["RUNNING"], seed=4)
    done = generate_images.submit_image(rt, job_id, 0, rt.settings.execution())
    while done["state"] != "done":
        done = generate_images.check_image(rt, job_id, 0, done["attempt"], rt.settings.execution())
    for index in (2, 4):
        assert generate_images.submit_image(rt, job_id, index, rt.settings.execution())["state"] == "waiting"

    lifecycle.record_failure(rt, job_id, {"Error": "PollBudgetExceeded", "Cause": "segment 3: not ready"})

    running = {segment_rows.get_segment(db, job_id, i)["image_runway_task_id"] for i in (2, 4)}
    assert set(_deleted(runway_env)) == running and len(_deleted(runway_env)) == 2
    assert all(runway_env.tasks[t].statuses == ["CANCELLED"] for t in running)
    assert jobs.get_job(db, job_id)["status"] == "failed"


def test_a_job_already_over_pays_for_no_new_task(rt, prompted_job, runway_env):
    job_id = prompted_job["id"]
    lifecycle.record_failure(rt, job_id, {"Error": "ContentRefused", "Cause": "segment 1: refused"})
    with pytest.raises(JobCancelled):
        generate_images.submit_image(
            rt, job_id, 7, rt.settings.execution()
        )  # a sibling iteration still in flight on AWS
    assert runway_env.created("text_to_image") == []


def test_a_cancel_between_gates_stops_the_running_tasks(rt, db, prompted_job, runway_env, monkeypatch):
    job_id = prompted_job["id"]
    runway_env.plan("text_to_image", ["RUNNING"], seed=0)
    assert generate_images.submit_image(rt, job_id, 0, rt.settings.execution())["state"] == "waiting"
    task = segment_rows.get_segment(db, job_id, 0)["image_runway_task_id"]
    replace_part(monkeypatch, rt, "sfn", None)  # no execution: the job has no arn

    assert control.cancel(rt, job_id).done
    assert _deleted(runway_env) == [task] and jobs.get_job(db, job_id)["status"] == "cancelled"
