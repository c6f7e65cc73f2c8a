"""What the bot (and the local runner) does to jobs: start one, approve or reject the gate
it waits at, cancel it. The Step Functions task token is read from PostgreSQL here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from botocore.exceptions import ClientError

from videobot import jobs
from videobot.config import get_settings
from videobot.errors import ConfigurationError
from videobot.observability import logger

_DEAD_TOKEN_ERRORS = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


@lru_cache(maxsize=1)
def _sfn():
    import boto3

    return boto3.client("stepfunctions")


def execution_input(job_id: str, overrides: dict | None = None) -> dict:
    return {"job_id": job_id, "settings": {**get_settings().execution_settings(), **(overrides or {})}}


def start_job(*, user_id: int, chat_id: int, prompt: str, aspect_ratio: str | None = None,
              language: str | None = None, source_update_id: int | None = None, job_id: str | None = None,
              overrides: dict | None = None) -> tuple[dict, bool]:
    """Create the job row and start its execution, named after the job, so a retried update
    can never start two. Returns (job, created). `overrides` adjust this execution's settings
    (approval_timeout_seconds, poll_interval_seconds, max_poll_attempts, max_concurrency)."""
    from videobot import preferences

    settings = get_settings()
    if not settings.state_machine_arn:
        raise ConfigurationError("STATE_MACHINE_ARN is not set")
    chosen = preferences.get(user_id)  # the user's /settings, for this next job
    job, created = jobs.create_job(user_id=user_id, chat_id=chat_id, prompt=prompt,
                                   aspect_ratio=aspect_ratio or chosen.aspect_ratio or settings.aspect_ratio,
                                   language=language or chosen.job_language, source_update_id=source_update_id,
                                   job_id=job_id, voice=chosen.voice, subtitles=chosen.subtitles)
    if job["execution_arn"]:
        return job, created
    try:
        arn = _sfn().start_execution(stateMachineArn=settings.state_machine_arn, name=job["id"],
                                     input=json.dumps(execution_input(job["id"], overrides)))["executionArn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
        arn = f"{settings.state_machine_arn.replace(':stateMachine:', ':execution:')}:{job['id']}"
    job = jobs.update_job(job["id"], execution_arn=arn)
    logger.info("job started", extra={"job_id": job["id"]})
    return job, created


@dataclass(frozen=True)
class Decision:
    done: bool
    reason: str          # "approved", "rejected", "not_waiting", "expired"
    stage: str | None = None


def decide(job_id: str, stage: str, approve: bool) -> Decision:
    """Approve or reject the gate `stage` of `job_id`, once. A second tap, a stale button or
    another stage's button finds the gate already decided (or never opened) and changes
    nothing. The claim commits before Step Functions hears of it, so the stage that runs
    next (or CancelJob) always reads the decision; if the call fails, the gate reopens."""
    from psycopg2.extras import RealDictCursor

    from videobot import db

    decision = "approved" if approve else "rejected"
    with db.connect() as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        token = jobs.claim_gate(cur, job_id, stage, decision)
        if token is None:
            return Decision(False, "not_waiting", stage)
        if approve:
            cur.execute(
                f"UPDATE {jobs.JOBS} SET status = %s, updated_at = (now() AT TIME ZONE 'utc')"
                + (", script_approved = 1" if stage == "script" else "")
                + " WHERE id = %s AND status <> ALL(%s)",
                (jobs.APPROVED_STATUS[stage], job_id, list(jobs.TERMINAL_STATUSES)))
    try:
        if approve:
            _sfn().send_task_success(taskToken=token, output=json.dumps({"approved": True, "stage": stage}))
        else:
            _sfn().send_task_failure(taskToken=token, error="Rejected", cause=f"rejected at the {stage} approval")
    except ClientError as exc:
        if exc.response["Error"]["Code"] in _DEAD_TOKEN_ERRORS:
            db.execute(f"UPDATE {jobs.GATES} SET decision = 'abandoned' WHERE job_id = %s AND stage = %s",
                       (job_id, stage))
            return Decision(False, "expired", stage)
        jobs.reopen_gate(job_id, stage, decision)  # e.g. throttled: the user can press again
        raise
    logger.info("gate decided", extra={"job_id": job_id, "stage": stage, "decision": decision})
    return Decision(True, decision, stage)


def revise(job_id: str, stage: str, *, feedback: str | None = None,
           segments: list[int] | None = None) -> Decision:
    """Answer the open gate `stage` with feedback instead of a decision: the task succeeds with
    {"revise": ...}, and the state machine loops through ReviseScript / RedoImages / RedoClips
    back to the gate. At most MAX_GATE_REVISIONS rounds per gate ("limit" once reached)."""
    from psycopg2.extras import RealDictCursor

    from videobot import db

    limit = get_settings().max_gate_revisions
    with db.connect() as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(f"SELECT revisions FROM {jobs.GATES} WHERE job_id = %s AND stage = %s AND decided_at IS NULL"
                    " FOR UPDATE", (job_id, stage))
        gate = cur.fetchone()
        if gate is None:
            return Decision(False, "not_waiting", stage)
        if gate["revisions"] >= limit:
            return Decision(False, "limit", stage)
        token = jobs.claim_gate(cur, job_id, stage, "revised")
        cur.execute(f"UPDATE {jobs.GATES} SET revisions = revisions + 1, feedback = %s, redo_segments = %s"
                    " WHERE job_id = %s AND stage = %s", (feedback, segments or None, job_id, stage))
    output = {"approved": False, "stage": stage, "revise": {"feedback": feedback, "segments": segments or []}}
    try:
        _sfn().send_task_success(taskToken=token, output=json.dumps(output))
    except ClientError as exc:
        if exc.response["Error"]["Code"] in _DEAD_TOKEN_ERRORS:
            db.execute(f"UPDATE {jobs.GATES} SET decision = 'abandoned' WHERE job_id = %s AND stage = %s",
                       (job_id, stage))
            return Decision(False, "expired", stage)
        db.execute(f"UPDATE {jobs.GATES} SET revisions = revisions - 1 WHERE job_id = %s AND stage = %s"
                   " AND decision = 'revised'", (job_id, stage))
        jobs.reopen_gate(job_id, stage, "revised")
        raise
    logger.info("gate revision asked", extra={"job_id": job_id, "stage": stage, "segments": segments or []})
    return Decision(True, "revised", stage)


def cancel(job_id: str) -> Decision:
    """Reject whatever the job is doing. At a gate: fail its token (the state machine's
    CancelJob path clears the job). Between gates: stop the execution and clear it here."""
    from videobot import pipeline

    job = jobs.get_job(job_id)
    if job["status"] in jobs.TERMINAL_STATUSES:
        return Decision(False, "not_waiting")
    gate = jobs.open_gate_for_job(job_id)
    if gate:
        result = decide(job_id, gate["stage"], approve=False)
        if result.done or result.reason == "not_waiting":
            return result
    if job["execution_arn"]:
        try:
            _sfn().stop_execution(executionArn=job["execution_arn"], error="Cancelled",
                                  cause="cancelled by the user")
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("ExecutionDoesNotExist", "ValidationException"):
                raise
        except Exception as exc:  # noqa: BLE001 - e.g. no connection; moto fails on a just-started run
            # The job is cancelled in PostgreSQL below all the same: every later stage finds it
            # cancelled and ends (JobCancelled), and the user hears of it now, not never.
            logger.warning("could not stop the execution", extra={"job_id": job_id, "error": repr(exc)})
    pipeline.cancel_job(job_id)
    return Decision(True, "rejected")
