"""AwaitScriptApproval, AwaitImageApproval, AwaitVideoApproval: store the gate's task token
with the job, then ask the user (once per round). The user's answer (videobot.control)
resumes the execution with that token.

AwaitRefusedImage, AwaitRefusedClip: the same for one segment the vendor's moderation refused
(its own gate, "refused_image_<i>"): the user is told which segment, why and its prompt, and
answers with a new prompt, a retry or a cancel."""

from __future__ import annotations

from videobot.data import gates, jobs, segments
from videobot.notify import GateReady, SegmentRefused, notify_once
from videobot.runtime import Runtime

_PROMPT_COLUMN = {"refused_image": "image_prompt", "refused_clip": "animation_prompt"}


def request_approval(rt: Runtime, job_id: str, stage: str, task_token: str, segment_index: int | None = None) -> dict:
    if stage in jobs.REFUSAL_KINDS:
        return _refused(rt, job_id, stage, int(segment_index), task_token)
    if stage not in jobs.GATE_STAGES:
        raise ValueError(f"unknown approval stage {stage!r}")
    job = jobs.update_job(job_id, status=jobs.AWAITING_STATUS[stage])
    gate = gates.open_gate(job_id, stage, task_token)
    # After a revision (ReviseScript, RedoImages, RedoClips) the gate asks again, once per round.
    rounds = gate.revisions
    redone = tuple(gate.redo_segments or ()) if rounds else ()
    notify_once(rt.notifier, job, GateReady(stage, round=rounds, segments=redone))
    return {"stage": stage, "waiting": True}


def _refused(rt: Runtime, job_id: str, kind: str, index: int, task_token: str) -> dict:
    gate = gates.open_gate(job_id, jobs.refusal_stage(kind, index), task_token)
    seg = segments.get_segment(job_id, index)
    event = SegmentRefused(
        "image" if kind == "refused_image" else "clip",
        index,
        seg.error_message or "SAFETY",
        getattr(seg, _PROMPT_COLUMN[kind]) or "",
        round=gate.revisions,
    )
    notify_once(rt.notifier, jobs.get_job(job_id), event)
    return {"stage": gate.stage, "waiting": True}
