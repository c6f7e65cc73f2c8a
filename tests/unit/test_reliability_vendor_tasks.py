"""Reliability matrix, vendor tasks and money: a job that ends early stops its Runway tasks
still running, and a job already over never pays for another task (the real Runway client
against the fake)."""

from __future__ import annotations

import pytest

from tests.helpers import lose_the_connection, replace_part
from videobot import control, lifecycle
from videobot.data import jobs, ledger
from videobot.data import segments as segment_rows
from videobot.errors import DatabaseUnavailable, JobCancelled
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


def _image_rows(db, job_id: str) -> list[dict]:
    """The ledger's rows of segment 0's image."""
    return [r for r in ledger.rows(db, job_id) if r["stage"] == "generate_images" and r["segment_index"] == 0]


@pytest.mark.parametrize("lost", ["before", "after"])
def test_a_connection_lost_after_the_task_was_paid_is_retried_without_paying_again(
    rt, db, prompted_job, runway_env, monkeypatch, lost
):
    """#36: Runway accepted (and the ledger attached) the segment's task, then the connection
    died, before (`before`) or after (`after`) the segment recorded the task's id and before
    SubmitImage returned. The retried SubmitImage polls that task: no second task, one ledger
    row, settled at its cost, and the image stored."""
    job_id = prompted_job["id"]
    real_record, lost_once = segment_rows.record_task, []

    def record_task(*args, **kwargs):
        if lost == "after":
            segment = real_record(*args, **kwargs)
        if not lost_once:
            lost_once.append(True)
            lose_the_connection(db)
        return segment if lost == "after" else real_record(*args, **kwargs)

    monkeypatch.setattr(segment_rows, "record_task", record_task)
    with pytest.raises(DatabaseUnavailable):
        generate_images.submit_image(rt, job_id, 0, rt.settings.execution())
    (task,) = runway_env.created("text_to_image")
    assert [r["task_id"] for r in _image_rows(db, job_id)] == [task.id]  # paid, and known to the ledger

    step = generate_images.submit_image(rt, job_id, 0, rt.settings.execution())  # the state machine's retry
    while step["state"] != "done":
        step = generate_images.check_image(rt, job_id, 0, step["attempt"], rt.settings.execution())

    assert [t.id for t in runway_env.created("text_to_image")] == [task.id]
    segment = segment_rows.get_segment(db, job_id, 0)
    assert segment["image_runway_task_id"] == task.id and segment["image_path"]
    assert segment["image_submissions"] == 1
    (row,) = _image_rows(db, job_id)
    assert row["task_id"] == task.id and row["state"] == ledger.SETTLED
