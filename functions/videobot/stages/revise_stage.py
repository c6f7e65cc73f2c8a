"""ReviseScript, RedoImages, RedoClips: act on the feedback given at a gate
(videobot.control.revise). The script is rewritten with it, then asked about again; for
images or clips only the named segments are cleared, and the state machine's loop back into
the Map makes exactly those again (the others are done and return at once). Idempotent: a
retry finds the work done or the rows cleared."""

from __future__ import annotations

from videobot.data import gates, jobs, segments
from videobot.pipeline import IMAGE, GateId, GateStage, media_kind
from videobot.runtime import Runtime
from videobot.stages.animate_clips import CLIPS
from videobot.stages.generate_images import IMAGES
from videobot.stages.generate_script import revise_script


def revise_stage(rt: Runtime, job_id: str, gate_id: GateId) -> dict:
    if gate_id.is_refusal:
        return _resolve_refusal(rt, job_id, gate_id)
    gate = gates.get_gate(rt.db, job_id, gate_id)
    if gate is None or gate.decision != "revised":
        raise ValueError(f"no revision was asked for at the {gate_id} gate of job {job_id}")
    if gate_id.stage == GateStage.SCRIPT:
        job = jobs.get_job(rt.db, job_id)
        already = job.script_generated_at and gate.decided_at and job.script_generated_at > gate.decided_at
        if not already:  # else a retry: already rewritten
            revise_script(rt, job_id, gate.feedback)
        return {"stage": gate.stage, "revision": gate.revisions}
    kind = media_kind(gate_id.stage)
    indexes = sorted(set(gate.redo_segments or []))
    jobs.update_job(rt.db, job_id, status=kind.generating)
    for index in indexes:  # (a clip's prepared segment is overwritten when it is made again)
        prompt = segments.get_segment(rt.db, job_id, index).prompt(kind) or ""
        # the user's words join the prompt
        joined = f"{prompt}. {gate.feedback}" if gate.feedback and gate.feedback not in prompt else None
        segments.redo_media(rt.db, job_id, index, kind, prompt=joined)
    # the redone tasks, reserved before the Map starts again (Runway's daily cap, the budgets)
    reserved = (IMAGES if kind == IMAGE else CLIPS).reserve_generations(rt, job_id)
    return {"stage": gate.stage, "revision": gate.revisions, "segments": indexes, "reserved": reserved}


def _resolve_refusal(rt: Runtime, job_id: str, gate_id: GateId) -> dict:
    """ResolveRefusedImage / ResolveRefusedClip: the user answered a refused segment with a new
    prompt (the gate's feedback) or a retry. Clear its refused task so the loop back into
    SubmitImage / SubmitClip pays for exactly one new one; nothing else is touched. A retry of
    this Lambda sets the same values again."""
    gate = gates.get_gate(rt.db, job_id, gate_id)
    if gate is None or gate.decision != "revised":
        raise ValueError(f"no answer was given at the {gate_id} gate of job {job_id}")
    kind, index = media_kind(gate_id.stage), gate_id.segment
    assert index is not None  # a refusal gate names its segment
    segments.redo_media(rt.db, job_id, index, kind, prompt=gate.feedback or None)
    return {"stage": gate.stage, "revision": gate.revisions, "new_prompt": bool(gate.feedback)}
