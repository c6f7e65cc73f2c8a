"""How a job ends without a video, in one place: cancelled (rejected at a gate, or by the
user between gates), no answer at a gate in time, or failed. Each way stops the job's vendor
tasks still running, records the outcome once, and tells the user once. A cancel also
deletes the job's media and clears its rows.

The state machine's CancelJob, RecordApprovalTimeout and RecordFailure states run these, and
so does `control.cancel` for a job cancelled between gates. `save_media` is the one way a
stage stores a job's file: a write that lands after the job was cancelled is removed again."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from videobot import storage
from videobot.data import gates, jobs, segments
from videobot.data.db import NOW
from videobot.data.rows import Gate, Job
from videobot.errors import JobCancelled
from videobot.notify import GateReady, JobEnded, SegmentRefused, notify_once
from videobot.observability import count, logger
from videobot.pipeline import IMAGE, REFERENCE_SEGMENT, TERMINAL_STATUSES, GateStage, JobStatus, SegmentStatus
from videobot.runtime import Runtime


def save_media(rt: Runtime, job_id: str, key: str | dict[str, bytes | Path], source: bytes | Path | None = None) -> str:
    """Store one of the job's media files (`key`, `source`), or several at once (`key` maps
    keys to sources). A stage still running when the job is cancelled (the voice-over beside a
    rejected gate; on AWS a Lambda in flight is not stopped) may write after the cancel deleted
    the job's media: so the job is read before the writes (a stage invoked after the cancel
    writes nothing) and again after them (one that was writing while the cancel ran deletes
    again). Returns the (first) key."""
    files = key if isinstance(key, dict) else {key: source}
    if jobs.get_job(rt.db, job_id).status == JobStatus.CANCELLED:
        raise JobCancelled(f"job {job_id} is cancelled")
    try:
        for name, data in files.items():
            if isinstance(data, bytes):
                rt.storage.put_bytes(name, data)
            else:
                rt.storage.put_file(name, data)
    except OSError:  # the cancel deleted the folder under the write
        if jobs.get_job(rt.db, job_id).status != JobStatus.CANCELLED:
            raise
    if jobs.get_job(rt.db, job_id).status == JobStatus.CANCELLED:
        rt.storage.delete_prefix(storage.job_prefix(job_id))
        raise JobCancelled(f"job {job_id} is cancelled")
    return next(iter(files))


def stop_vendor_tasks(rt: Runtime, job_id: str) -> int:
    """Stop the job's vendor tasks still running (`DELETE /v1/tasks/{id}` at Runway), so no
    task is paid for a video that will never be made. Best effort: a failure here is logged,
    never raised over the outcome being recorded. Bounded: a cancel (one try, no SDK retry)
    starts only while a whole request timeout fits in `stop_tasks_seconds`; the tasks left
    run to their end at Runway (logged)."""
    stopped = 0
    deadline = time.monotonic() + rt.settings.pipeline.stop_tasks_seconds
    for seg in segments.get_segments(rt.db, job_id):
        for task_id, done, generator in (
            (seg.image_runway_task_id, seg.image_path, lambda: rt.images),
            (seg.video_runway_task_id, seg.video_path, lambda: rt.clips),
        ):
            if not task_id or done:
                continue
            if time.monotonic() + rt.settings.runway.timeout_seconds > deadline:
                logger.warning("no time left to stop a vendor task", extra={"job_id": job_id, "task_id": task_id})
                continue
            try:
                generator().cancel(task_id)
                stopped += 1
            except Exception as exc:  # noqa: BLE001 - the job's outcome matters more
                logger.warning(
                    "could not stop a vendor task",
                    extra={"job_id": job_id, "task_id": task_id, "error_type": type(exc).__name__},
                )
    return stopped


def _end(rt: Runtime, job_id: str, status: JobStatus, notice: JobEnded, **fields) -> Job | None:
    """End the job as `status`, with the notice its user is to be told stored in the same
    update. Returns the job when it ended so (now, or already: a retry), None when it had ended
    another way first (that end stands, and tells its own). The first end is counted."""
    finished = jobs.finish_job(rt.db, job_id, status, completed_at=NOW, end_notice=asdict(notice), **fields)
    if finished is not None:
        count("JobsEnded", outcome=finished.status)
        return finished
    job = jobs.get_job(rt.db, job_id)
    if job.status != status:
        logger.info("the job had ended another way", extra={"job_id": job_id, "status": job.status, "not": status})
        return None
    return job


def tell_end(rt: Runtime, job: Job) -> bool:
    """Tell the user how their job ended (its stored notice), once, and record that Telegram
    confirmed it. A failure is logged, not raised: the job's end is recorded, and the
    reconciler (reconcile_messages) tells the user later."""
    if not job.end_notice or job.end_told_at is not None:
        return False
    notice = job.end_notice if isinstance(job.end_notice, dict) else json.loads(job.end_notice)
    try:
        notify_once(rt.db, rt.notifier, job, JobEnded(**notice))
    except Exception as exc:  # noqa: BLE001 - the reconciler tells the user later
        logger.warning("the end of the job was not told", extra={"job_id": job.id, "error_type": type(exc).__name__})
        return False
    jobs.mark_told(rt.db, job.id)
    return True


def cancel_job(rt: Runtime, job_id: str) -> dict:
    """Rejected at a gate, or cancelled: end the job, stop its tasks, delete its stored media,
    clear its rows, and say so."""
    gate = gates.rejected_gate(rt.db, job_id)
    stage = gate.stage if gate else None
    fields = {"script_approved": -1} if stage == "script" else {}
    reason = f"rejected at the {stage} approval" if stage else "cancelled by the user"
    job = _end(
        rt, job_id, JobStatus.CANCELLED, JobEnded("cancelled", stage=stage or ""), error_message=reason, **fields
    )
    if job is None:
        # It ended another way first (the video delivered while ❌ was tapped): that end stands,
        # and its media (the delivered video) is kept.
        return {"cancelled": False, "status": jobs.get_job(rt.db, job_id).status}
    stop_vendor_tasks(rt, job_id)
    deleted = rt.storage.delete_prefix(storage.job_prefix(job_id))
    jobs.clear_job(rt.db, job_id)
    tell_end(rt, job)
    return {"cancelled": True, "deleted_files": deleted}


def record_approval_timeout(rt: Runtime, job_id: str) -> dict:
    """Nobody answered a gate in time. A tap that decided the gate a moment before (its
    SendTask* then found the token timed out) leaves no open gate: the gate opened last is the
    one that timed out, and the message names its stage."""
    gate = gates.open_gate_for_job(rt.db, job_id) or gates.latest_gate(rt.db, job_id)
    stage = gate.stage if gate else ""
    gates.close_open_gates(rt.db, job_id, "timed_out")
    reason = f"no answer at the {stage} approval in time"
    job = _end(rt, job_id, JobStatus.TIMED_OUT, JobEnded("timed_out", stage=stage), error_message=reason)
    if job is not None:
        tell_end(rt, job)
    return {"timed_out": job is not None, "stage": stage}


# Errors that end a job on the user's input, not on a fault of the system: content the vendor's
# moderation refused after every round the user had, a voice topic that cannot be heard, and a
# stage that found its job cancelled under it. The job still fails with the reason, and the user
# is told; the execution ends Succeeded (IsItAFault), so the failed-executions alarm means a fault.
# A job the budgets or Runway's daily cap cannot pay for is not a fault either.
NOT_A_FAULT = frozenset(
    {
        "ContentRefused",
        "VoiceNotDownloadable",
        "VoiceNotUnderstood",
        "VoiceEmpty",
        "JobCancelled",
        "BudgetExceeded",
        "DailyCapReached",
    }
)


def record_failure(rt: Runtime, job_id: str, error: dict | None = None) -> dict:
    """A stage failed for good: `error` is the state machine's Catch ({"Error", "Cause"})."""
    kind, message = error_details(error)
    gates.close_open_gates(rt.db, job_id, "abandoned")
    notice = JobEnded("failed", error_type=kind, reason=message)
    job = _end(rt, job_id, JobStatus.FAILED, notice, error_message=f"{kind}: {message}")
    stop_vendor_tasks(rt, job_id)
    if job is not None:
        tell_end(rt, job)
    return {"failed": job is not None, "error_type": kind, "fault": kind not in NOT_A_FAULT}


def error_details(error: dict | None) -> tuple[str, str]:
    """(error type, message) from a Catch's {"Error", "Cause"}; Lambda causes are JSON."""
    error = error or {}
    kind = error.get("Error") or "Unknown"
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict):
            kind = parsed.get("errorType") or kind
            cause = parsed.get("errorMessage") or cause
    except (TypeError, ValueError):
        pass
    return kind, str(cause)[:1000]


ENDED_EXECUTION_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
# The error of the ASL's RecordApprovalTimeoutFailed: nobody answered, and recording it failed.
APPROVAL_TIMED_OUT = "ApprovalTimedOut"


def reconcile_execution(rt: Runtime, detail: dict) -> dict:
    """An execution ended (EventBridge's "Step Functions Execution Status Change" `detail`;
    executions are named after their job). A job the execution left non-terminal (its
    RecordFailure failed, the execution timed out or was stopped from the console) ends here,
    through the same paths, so the chat is never blocked and the user hears once. A job that
    already ended is left as it is."""
    job_id, status = detail.get("name"), detail.get("status")
    job = jobs.find_job(rt.db, job_id) if job_id else None
    if job is None or status not in ENDED_EXECUTION_STATUSES:
        return {"reconciled": False, "reason": "not a job's ended execution"}
    if job.status in TERMINAL_STATUSES:  # ended; its user may still not know
        return {"reconciled": False, "status": job.status, "told": tell_end(rt, job)}
    logger.warning("execution ended with its job unfinished", extra={"job_id": job.id, "status": status})
    if status == "ABORTED" or gates.rejected_gate(rt.db, job.id):
        cancel_job(rt, job.id)
        return {"reconciled": True, "status": "cancelled"}
    if status == "FAILED" and detail.get("error") == APPROVAL_TIMED_OUT:
        record_approval_timeout(rt, job.id)
        return {"reconciled": True, "status": "timed_out"}
    if status == "TIMED_OUT":
        record_failure(rt, job.id, {"Error": "States.Timeout", "Cause": "the execution ran out of time"})
    else:
        record_failure(
            rt,
            job.id,
            {"Error": detail.get("error") or "States.Runtime", "Cause": detail.get("cause") or "the execution failed"},
        )
    return {"reconciled": True, "status": jobs.get_job(rt.db, job.id).status}


# ---- the reconciler's sweep: messages that matter, asked and told until they land ----------

# A gate's question Telegram did not take is asked again after these delays (the last repeats),
# by the reconciler's sweep, until the gate is answered or times out.
QUESTION_RETRY_SECONDS = (30.0, 60.0, 120.0, 240.0)
# An end younger than this is being told by its own Lambda: the sweep leaves it alone.
END_NOTICE_GRACE_SECONDS = 60.0


def gate_question(rt: Runtime, job: Job, gate: Gate) -> GateReady | SegmentRefused:
    """What a gate asks: its stage's question (per round, with the redone segments), or for a
    refused segment, which one and its prompt."""
    gate_id = gate.id
    if gate_id.is_refusal:
        kind, index = gate_id.media, gate_id.segment
        assert kind is not None and index is not None  # a refusal gate names both
        rows = segments.get_segments(rt.db, job.id)
        seg = rows[index]
        code = seg.error_message or "SAFETY"
        # a diagnostic, as Runway asks: logged, never shown to the user
        logger.info("segment refused by moderation", extra={"job_id": job.id, "segment": index, "failure_code": code})
        made = [row.segment_index for row in rows if row.media(kind).path]
        refused = [r.segment_index for r in rows if not r.media(kind).path and r.status == SegmentStatus.FAILED]
        blocked: tuple[int, ...] = ()
        if kind is IMAGE and index == REFERENCE_SEGMENT:  # the others are made from it
            blocked = tuple(r.segment_index for r in rows if r.segment_index != index and not r.media(kind).path)
        return SegmentRefused(
            kind.noun,
            index,
            code,
            seg.prompt(kind) or "",
            round=gate.revisions,
            ready=len(made),
            waiting=tuple(sorted({*refused, index})),
            blocked=blocked,
        )
    redone = tuple(gate.redo_segments or ()) if gate.revisions else ()
    return GateReady(GateStage(gate_id.stage), round=gate.revisions, segments=redone)


def ask(rt: Runtime, job: Job, gate: Gate) -> bool:
    """Ask the gate's question once. If Telegram does not take it, the gate is not failed: it
    waits for its answer, and the reconciler's sweep asks again after QUESTION_RETRY_SECONDS."""
    try:
        notify_once(rt.db, rt.notifier, job, gate_question(rt, job, gate))
    except Exception as exc:  # noqa: BLE001 - asked again by the sweep
        again = gates.question_failed(rt.db, job.id, gate.id, QUESTION_RETRY_SECONDS)
        logger.warning(
            "the gate's question was not sent",
            extra={
                "job_id": job.id,
                "stage": gate.stage,
                "error_type": type(exc).__name__,
                "attempts": again.ask_attempts if again else None,
            },
        )
        return False
    gates.question_asked(rt.db, job.id, gate.id)
    return True


def reconcile_messages(rt: Runtime) -> dict:
    """The reconciler's sweep (ReconcileExecutionFunction on its schedule): ask again each open
    gate's question that Telegram did not take, when due; tell each user whose job ended
    without their being told."""
    asked = told = 0
    for gate in gates.questions_due(rt.db):
        job = jobs.find_job(rt.db, gate.job_id)
        if job is not None and job.status not in TERMINAL_STATUSES:
            asked += ask(rt, job, gate)
    for job in jobs.untold_ends(rt.db, END_NOTICE_GRACE_SECONDS):
        told += tell_end(rt, job)
    return {"asked": asked, "told": told}
