"""AwaitScriptApproval, AwaitImageApproval, AwaitVideoApproval: store the gate's task token
with the job, then ask the user (once per round). The user's answer (videobot.control)
resumes the execution with that token.

AwaitRefusedImage, AwaitRefusedClip: the same for one segment the vendor's moderation refused
(its own gate, "refused_image_<i>"), asked once the others are made: the user is told which
segment, its prompt and what waits on the answer (the other refused segments; for segment
0's image, the nine made from it), and answers with a new prompt, a retry or a cancel.

Once the token is stored, the stage succeeds whether or not Telegram took the question: a
Telegram outage never fails a paid job. A question not sent is asked again by the
reconciler's sweep, with backoff, until the gate is answered or times out
(videobot.lifecycle.reconcile_messages)."""

from __future__ import annotations

from videobot import lifecycle
from videobot.data import gates, jobs
from videobot.pipeline import GateId, GateStage
from videobot.runtime import Runtime


def request_approval(rt: Runtime, job_id: str, gate_id: GateId, task_token: str) -> dict:
    if gate_id.is_refusal:
        job = jobs.get_job(rt.db, job_id)
    else:
        job = jobs.update_job(rt.db, job_id, status=GateStage(gate_id.stage).awaiting)
    gate = gates.open_gate(rt.db, job_id, gate_id, task_token)
    asked = lifecycle.ask(rt, job, gate)
    return {"stage": str(gate_id), "waiting": True, "asked": asked}
