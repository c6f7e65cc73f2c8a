"""ReviseScript, RedoImages, RedoClips: act on the feedback given at a gate
(videobot.control.revise). The script is rewritten with it, then asked about again; for
images or clips only the named segments are cleared, and the state machine's loop back into
the Map makes exactly those again (the others are done and return at once). The user's words
for images are worked into the named image prompts by the LLM, in one call; for clips they
join the motion prompt. Idempotent: a retry finds the work done or the rows cleared."""

from __future__ import annotations

from datetime import datetime

from videobot import usage
from videobot.data import gates, jobs, segments
from videobot.data.db import NOW
from videobot.data.rows import Job
from videobot.pipeline import CLIP, IMAGE, GateId, GateStage, media_kind
from videobot.runtime import Runtime
from videobot.stages.animate_clips import CLIPS
from videobot.stages.common import expect_segments
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
    job = jobs.update_job(rt.db, job_id, status=kind.generating)
    if kind is IMAGE and gate.feedback:
        _revise_image_prompts(rt, job, indexes, gate.feedback, gate.decided_at)
    for index in indexes:  # (a clip's prepared segment is overwritten when it is made again)
        prompt = None
        if kind is CLIP and gate.feedback:  # the user's words join the motion prompt
            motion = segments.get_segment(rt.db, job_id, index).prompt(kind) or ""
            prompt = f"{motion}. {gate.feedback}" if gate.feedback not in motion else None
        segments.redo_media(rt.db, job_id, index, kind, prompt=prompt)
    # the redone tasks, reserved before the Map starts again (Runway's daily cap, the budgets)
    reserved = (IMAGES if kind == IMAGE else CLIPS).reserve_generations(rt, job_id)
    return {"stage": gate.stage, "revision": gate.revisions, "segments": indexes, "reserved": reserved}


def _revise_image_prompts(rt: Runtime, job: Job, indexes: list[int], wish: str, asked_at: datetime | None) -> None:
    """The named images' prompts rewritten with the user's words, in one LLM call that keeps the
    prompts' rules (English, 100-200 characters, no text) and the video's visual world. A retry
    finds them rewritten since the wish was given (image_prompt_generated_at) and calls nothing."""
    rows = segments.get_segments(rt.db, job.id)
    named = [s for s in rows if s.segment_index in indexes]
    if asked_at and all(s.image_prompt_generated_at and s.image_prompt_generated_at > asked_at for s in named):
        return
    world = [s.image_prompt or "" for s in rows]
    call = usage.llm_call(rt.settings, job.id, "revise_stage", "revise_image_prompts")
    with usage.paid_call(rt.db, rt.settings, call) as bill:
        written = rt.llm.revise_image_prompts(job.prompt, [s.image_prompt or "" for s in named], wish, world)
        bill.llm(written.usage)
    revised = expect_segments(written.items, len(named), "revised image prompts")
    for seg, prompt in zip(named, revised, strict=True):
        segments.update_segment(rt.db, job.id, seg.segment_index, image_prompt=prompt, image_prompt_generated_at=NOW)


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
