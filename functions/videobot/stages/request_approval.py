"""AwaitScriptApproval, AwaitImageApproval, AwaitVideoApproval: store the gate's task token
with the job, then ask the user (once per round). The user's answer (videobot.control)
resumes the execution with that token.

AwaitRefusedImage, AwaitRefusedClip: the same for one segment the vendor's moderation refused
(its own gate, "refused_image_<i>"), asked once the others are made: the user is told which
segment, why, its prompt and what waits on the answer (the other refused segments; for segment
0's image, the nine made from it), and answers with a new prompt, a retry or a cancel."""

from __future__ import annotations

from videobot.data import gates, jobs, segments
from videobot.notify import GateReady, SegmentRefused, notify_once
from videobot.pipeline import IMAGE, REFERENCE_SEGMENT, GateId, GateStage, SegmentStatus
from videobot.runtime import Runtime


def request_approval(rt: Runtime, job_id: str, gate_id: GateId, task_token: str) -> dict:
    if gate_id.is_refusal:
        return _refused(rt, job_id, gate_id, task_token)
    stage = GateStage(gate_id.stage)
    job = jobs.update_job(rt.db, job_id, status=stage.awaiting)
    gate = gates.open_gate(rt.db, job_id, gate_id, task_token)
    # After a revision (ReviseScript, RedoImages, RedoClips) the gate asks again, once per round.
    rounds = gate.revisions
    redone = tuple(gate.redo_segments or ()) if rounds else ()
    notify_once(rt.db, rt.notifier, job, GateReady(stage, round=rounds, segments=redone))
    return {"stage": str(gate_id), "waiting": True}


def _refused(rt: Runtime, job_id: str, gate_id: GateId, task_token: str) -> dict:
    gate = gates.open_gate(rt.db, job_id, gate_id, task_token)
    kind, index = gate_id.media, gate_id.segment
    assert kind is not None and index is not None  # a refusal gate names both
    rows = segments.get_segments(rt.db, job_id)
    seg = rows[index]
    made = [row.segment_index for row in rows if row.media(kind).path]
    refused = [row.segment_index for row in rows if not row.media(kind).path and row.status == SegmentStatus.FAILED]
    blocked: tuple[int, ...] = ()
    if kind is IMAGE and index == REFERENCE_SEGMENT:  # the others are made from it
        blocked = tuple(row.segment_index for row in rows if row.segment_index != index and not row.media(kind).path)
    event = SegmentRefused(
        kind.noun,
        index,
        seg.error_message or "SAFETY",
        seg.prompt(kind) or "",
        round=gate.revisions,
        ready=len(made),
        waiting=tuple(sorted({*refused, index})),
        blocked=blocked,
    )
    notify_once(rt.db, rt.notifier, jobs.get_job(rt.db, job_id), event)
    return {"stage": gate.stage, "waiting": True}
