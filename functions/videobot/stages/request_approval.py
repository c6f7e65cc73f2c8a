"""AwaitScriptApproval, AwaitImageApproval, AwaitVideoApproval: store the gate's task token
with the job, then ask the user (once per round). The user's answer (videobot.control)
resumes the execution with that token."""

from __future__ import annotations

from videobot.data import gates, jobs
from videobot.notify import GateReady, notify_once
from videobot.runtime import Runtime


def request_approval(rt: Runtime, job_id: str, stage: str, task_token: str) -> dict:
    if stage not in jobs.GATE_STAGES:
        raise ValueError(f"unknown approval stage {stage!r}")
    job = jobs.update_job(job_id, status=jobs.AWAITING_STATUS[stage])
    gate = gates.open_gate(job_id, stage, task_token)
    # After a revision (ReviseScript, RedoImages, RedoClips) the gate asks again, once per round.
    rounds = gate.revisions
    redone = tuple(gate.redo_segments or ()) if rounds else ()
    notify_once(rt.notifier, job, GateReady(stage, round=rounds, segments=redone))
    return {"stage": stage, "waiting": True}
