"""What the bot (and the local runner) does to jobs from outside the state machine: start
one, approve, reject or revise the gate it waits at, cancel it. The Step Functions task
token is read from PostgreSQL here; the state machine is resumed with it."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from videobot import lifecycle, preferences, usage
from videobot.data import gates, jobs, ledger
from videobot.data.rows import Job
from videobot.errors import (
    BudgetExceeded,
    ConfigurationError,
    ControlUnavailable,
    DailyCapReached,
    StartFailed,
    VendorUnavailable,
)
from videobot.observability import count, logger
from videobot.pipeline import TERMINAL_STATUSES, ExecutionInput, GateId
from videobot.runtime import Runtime

_DEAD_TOKEN_ERRORS = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}
# Step Functions' answers that mean the call was not taken (nothing landed): tried again.
_THROTTLED = {"ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "ServiceUnavailable"}
THROTTLE_BACKOFF_SECONDS = 0.5


def call_step_functions(rt: Runtime, call: Callable[[Any], Any]) -> Any:
    """One SendTask* or StopExecution call, a throttle tried again with backoff (full jitter,
    0.5 s doubling) up to AWS_THROTTLE_ATTEMPTS in all; still throttled, or refused otherwise:
    ControlUnavailable (the caller undoes what it took, and the user is asked to try again). A
    dead token and a missing execution are answers, returned to the caller as ClientError."""
    attempts = rt.settings.aws.throttle_attempts
    for attempt in range(1, attempts + 1):
        try:
            return call(rt.sfn)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in _DEAD_TOKEN_ERRORS or code in ("ExecutionDoesNotExist", "ValidationException"):
                raise
            if code not in _THROTTLED or attempt == attempts:
                logger.warning("Step Functions did not take the call", extra={"error_code": code, "attempts": attempt})
                raise ControlUnavailable(f"Step Functions answered {code}") from exc
            time.sleep(random.uniform(0, THROTTLE_BACKOFF_SECONDS * 2 ** (attempt - 1)))
    raise AssertionError("unreachable")


def start_job(
    rt: Runtime,
    *,
    user_id: int,
    chat_id: int,
    prompt: str,
    aspect_ratio: str | None = None,
    language: str | None = None,
    source_update_id: int | None = None,
    job_id: str | None = None,
    overrides: dict | None = None,
    voice_file_id: str | None = None,
) -> tuple[Job, bool]:
    """Create the job row and start its execution, named after the job, so a retried update
    can never start two. Returns (job, created). A voice topic passes its Telegram
    `voice_file_id` and an empty prompt: the execution transcribes it first. `overrides`
    adjust this execution's settings (ExecutionSettings: approval_timeout_seconds,
    poll_interval_seconds, max_poll_attempts, max_concurrency, ...), built and validated here,
    once, and carried in its input."""
    settings = rt.settings
    if not settings.aws.state_machine_arn:
        raise ConfigurationError("STATE_MACHINE_ARN is not set")
    execution = settings.execution(**(overrides or {}))
    chosen = preferences.get(rt.db, user_id)  # the user's /settings, for this next job
    job, created = jobs.create_job(
        rt.db,
        user_id=user_id,
        chat_id=chat_id,
        prompt=prompt,
        aspect_ratio=aspect_ratio or chosen.aspect_ratio or settings.pipeline.aspect_ratio,
        language=language or chosen.job_language,
        source_update_id=source_update_id,
        job_id=job_id,
        voice=chosen.voice,
        subtitles=chosen.subtitles,
        video_model=preferences.video_model_for(rt.db, user_id, settings),
        voice_file_id=voice_file_id,
    )
    if job.execution_arn:
        return job, created
    arn = f"{settings.aws.state_machine_arn.replace(':stateMachine:', ':execution:')}:{job.id}"
    try:
        arn = rt.sfn.start_execution(
            stateMachineArn=settings.aws.state_machine_arn,
            name=job.id,
            input=json.dumps(
                ExecutionInput(job_id=job.id, settings=execution, voice=bool(job.voice_file_id) or None).payload()
            ),
        )["executionArn"]
    except Exception as exc:  # every failure is answered, none leaves a pending job
        already = isinstance(exc, ClientError) and exc.response["Error"]["Code"] == "ExecutionAlreadyExists"
        if not already and not _execution_exists(rt, arn):
            # Nothing runs for this job: remove it, so it neither blocks the chat nor counts
            # toward the limits, and the user is told (videobot.telegram.webhook).
            jobs.delete_job(rt.db, job.id)
            logger.warning(
                "StartExecution failed, the job is removed", extra={"job_id": job.id, "error_type": type(exc).__name__}
            )
            raise StartFailed(f"StartExecution failed: {type(exc).__name__}") from exc
    job = jobs.update_job(rt.db, job.id, execution_arn=arn)
    logger.info("job started", extra={"job_id": job.id})
    count("JobsStarted")
    return job, created


def _execution_exists(rt: Runtime, arn: str) -> bool:
    """Whether a StartExecution whose answer was lost started the execution after all."""
    try:
        rt.sfn.describe_execution(executionArn=arn)
        return True
    except Exception:  # noqa: BLE001 - ExecutionDoesNotExist, or Step Functions unreachable
        return False


@dataclass(frozen=True)
class Decision:
    """What became of an answer at a gate, with what the reply to the user needs."""

    done: bool
    # "approved", "rejected", "revised", "not_waiting", "expired", "limit", "stale_round",
    # "over_budget", "daily_cap"
    reason: str
    stage: str | None = None  # the gate's id, printed ("script", "refused_clip_6")
    round: int | None = None  # the gate's revisions once decided (after a revision, its new count)
    limit: int | None = None  # the revisions a gate allows (MAX_GATE_REVISIONS)
    unaffordable: BudgetExceeded | DailyCapReached | None = None  # "over_budget", "daily_cap": why not


def _resume(
    rt: Runtime,
    job_id: str,
    gate: GateId,
    decision: str,
    token: str,
    send,
    *,
    keyed: bool = False,
    resend: bool = False,
) -> Decision | None:
    """Tell Step Functions. A dead token is the outcome of an earlier send on it whose answer
    was lost (that decision landed), or else the gate is abandoned ("expired"). Any other
    failure reopens the gate (the user can answer again) and raises; a failure that left no
    answer (connection error, read timeout) may have landed, and the gate remembers it. A
    revision `keyed` by its Telegram update stays taken when the answer is lost: the update's
    redelivery sends it again on the same token (`resend`), where a dead token means it landed
    and a refusal (throttled past the retries) is transient, so the update comes again."""
    try:
        call_step_functions(rt, send)
    except ControlUnavailable as exc:  # Step Functions answered: this call did not land
        if resend:  # the first send's outcome is still unknown: the revision stays taken, sent again
            raise VendorUnavailable(f"Step Functions did not take the resend: {exc}") from exc
        gates.reopen_gate(rt.db, job_id, gate, decision)
        raise
    except ClientError as exc:
        if exc.response["Error"]["Code"] in _DEAD_TOKEN_ERRORS:
            landed = decision if resend else gates.landed_decision(rt.db, job_id, gate, token)
            if landed:
                gates.confirm_resumed(rt.db, job_id, gate, token)
                logger.info(
                    "an earlier decision had landed", extra={"job_id": job_id, "stage": str(gate), "decision": landed}
                )
                return Decision(True, landed, str(gate))
            gates.abandon_gate(rt.db, job_id, gate)
            return Decision(False, "expired", str(gate))
        raise
    except Exception as exc:  # no answer: a connection error, a read timeout
        if not keyed:
            gates.reopen_gate(rt.db, job_id, gate, decision, outcome_unknown=True)
        # transient for the webhook: a 5xx, so Telegram delivers the update again
        raise VendorUnavailable(f"Step Functions did not answer: {type(exc).__name__}") from exc
    gates.confirm_resumed(rt.db, job_id, gate, token)
    return None


def decide(rt: Runtime, job_id: str, gate: GateId, approve: bool, round_: int | None = None) -> Decision:
    """Approve or reject the gate `stage` of `job_id`, once. A second tap, a stale button or
    another stage's button finds the gate already decided (or never opened) and changes
    nothing. With `round_` (a button's), only that round of the gate is decided: a button of
    an earlier round never approves a revision the user has not seen ("stale_round"). The
    decision commits before Step Functions hears of it, so the stage that runs next (or
    CancelJob) always reads it; if the call fails, the gate reopens."""
    stage, limit = str(gate), rt.settings.pipeline.max_gate_revisions
    if approve and gate.is_refusal:  # ✅ at a refused segment: try it again
        return revise(rt, job_id, gate, round_=round_)
    decision = "approved" if approve else "rejected"
    claimed = gates.decide_gate(rt.db, job_id, gate, decision, round_)
    if claimed is None and round_ is not None:
        # read again only when the claim failed, to tell a stale button from a gate not waiting
        row = gates.get_gate(rt.db, job_id, gate)
        if row and row.decided_at is None and row.revisions != round_:
            return Decision(False, "stale_round", stage, row.revisions, limit)
    if claimed is None:
        return Decision(False, "not_waiting", stage, limit=limit)
    token, rounds = claimed

    def send(sfn):
        if approve:
            return sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True, "stage": stage}))
        return sfn.send_task_failure(taskToken=token, error="Rejected", cause=f"rejected at the {stage} approval")

    failed = _resume(rt, job_id, gate, decision, token, send)
    if failed:
        return replace(failed, round=rounds, limit=limit)
    logger.info("gate decided", extra={"job_id": job_id, "stage": stage, "decision": decision})
    return Decision(True, decision, stage, rounds, limit)


def revise(
    rt: Runtime,
    job_id: str,
    gate: GateId,
    *,
    feedback: str | None = None,
    segments: list[int] | None = None,
    round_: int | None = None,
    update_id: int | None = None,
    usd: float = 0.0,
    generations: dict[str, int] | None = None,
) -> Decision:
    """Answer the open gate `stage` with feedback instead of a decision: the task succeeds with
    {"revise": ...}, and the state machine loops through ReviseScript / RedoImages / RedoClips
    back to the gate. At most MAX_GATE_REVISIONS rounds per gate ("limit" once reached). With
    `update_id`, the Telegram update that carried the feedback, it is applied once whatever
    fails: a redelivery (after a lost answer, a failed finish, a killed webhook, a retried
    worker) finds its revision taken and sends it again only if it was never confirmed. Its
    estimate `usd` is held for it before Step Functions hears of it, and its vendor
    `generations` (model -> count) checked against the models' daily caps: a revision that
    cannot be paid for or made today is refused ("over_budget", "daily_cap") and the gate stays
    open, nothing paid."""
    stage, limit = str(gate), rt.settings.pipeline.max_gate_revisions
    revision = gates.revise_gate(
        rt.db,
        job_id,
        gate,
        feedback=feedback,
        segments=segments,
        limit=limit,
        round_=round_,
        update_id=update_id,
        ask=usage.ask(rt.settings, usd, generations or {}),
    )
    if revision.outcome == "already":
        logger.info("feedback already applied", extra={"job_id": job_id, "stage": stage, "update_id": update_id})
        return Decision(True, "revised", stage, revision.round, limit)
    token = revision.token
    if token is None:
        return Decision(False, revision.outcome, stage, revision.round, limit, revision.unaffordable)
    resend = revision.outcome == "resend"
    if resend:  # the revision as it was taken (a voice note heard again may differ by a word)
        taken = gates.get_gate(rt.db, job_id, gate)
        feedback, segments = (taken.feedback, taken.redo_segments) if taken else (feedback, segments)
    output = {"approved": False, "stage": stage, "revise": {"feedback": feedback, "segments": segments or []}}
    try:
        failed = _resume(
            rt,
            job_id,
            gate,
            "revised",
            token,
            lambda sfn: sfn.send_task_success(taskToken=token, output=json.dumps(output)),
            keyed=update_id is not None,
            resend=resend,
        )
    except ControlUnavailable:
        if usd > 0:  # Step Functions took nothing (a resend raises VendorUnavailable): nor is it held
            ledger.hold_less(rt.db, job_id, usd)
        raise
    if failed:
        return replace(failed, round=revision.round, limit=limit)
    logger.info("gate revision asked", extra={"job_id": job_id, "stage": stage, "segments": segments or []})
    return Decision(True, "revised", stage, revision.round, limit)


def cancel(rt: Runtime, job_id: str) -> Decision:
    """Reject whatever the job is doing. At a gate: fail its token (the state machine's
    CancelJob path clears the job). Between gates: stop the execution and end the job here
    (videobot.lifecycle)."""
    job = jobs.get_job(rt.db, job_id)
    if job.status in TERMINAL_STATUSES:
        return Decision(False, "not_waiting")
    gate = gates.open_gate_for_job(rt.db, job_id)
    if gate:
        result = decide(rt, job_id, gate.id, approve=False)
        if result.done or result.reason == "not_waiting":
            return result
    if job.execution_arn:
        arn = job.execution_arn
        try:
            call_step_functions(
                rt, lambda sfn: sfn.stop_execution(executionArn=arn, error="Cancelled", cause="cancelled by the user")
            )
        except ControlUnavailable:
            raise  # nothing was cancelled: the user is asked to try again
        except ClientError:
            pass  # the execution had ended, or never started
        except Exception as exc:  # noqa: BLE001 - e.g. no connection; moto fails on a just-started run
            # The job is cancelled in PostgreSQL below all the same: every later stage finds it
            # cancelled and ends (JobCancelled), and the user hears of it now, not never.
            logger.warning("could not stop the execution", extra={"job_id": job_id, "error": repr(exc)})
    if not lifecycle.cancel_job(rt, job_id)["cancelled"]:
        return Decision(False, "not_waiting")  # it ended first (delivered): nothing was cancelled
    return Decision(True, "rejected")


def end_for_blocked_chat(rt: Runtime, chat_id: int) -> str | None:
    """The user blocked the bot (Telegram answered 403 Forbidden): their job can reach nobody,
    so it ends as a cancel does (its vendor tasks stopped, its media deleted). The notice the
    lifecycle sends is refused by Telegram too, and the notifier only logs that. Returns the
    job id ended, or None."""
    job = jobs.active_job_for_chat(rt.db, chat_id)
    if job is None:
        return None
    return job.id if cancel(rt, job.id).done else None
