"""ReviseScript, RedoImages, RedoClips: act on the feedback given at a gate
(videobot.control.revise). The script is rewritten with it, then asked about again; for
images or clips only the named segments are cleared, and the state machine's loop back into
the Map makes exactly those again (the others are done and return at once). The user's words
for images or clips are worked into the named image or motion prompts by the LLM, in one call.
Idempotent: a retry finds the work done or the rows cleared."""

from __future__ import annotations

from datetime import datetime

from videobot import usage
from videobot.data import gates, jobs, segments
from videobot.data.db import NOW
from videobot.data.rows import Job
from videobot.pipeline import IMAGE, GateId, GateStage, MediaKind, media_kind
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
    if gate.feedback:
        _revise_prompts(rt, job, kind, indexes, gate.feedback, gate.decided_at)
    for index in indexes:  # (a clip's prepared segment is overwritten when it is made again)
        segments.redo_media(rt.db, job_id, index, kind)
    # the redone tasks, reserved before the Map starts again (Runway's daily cap, the budgets)
    reserved = (IMAGES if kind == IMAGE else CLIPS).reserve_generations(rt, job_id)
    return {"stage": gate.stage, "revision": gate.revisions, "segments": indexes, "reserved": reserved}


def _revise_prompts(
    rt: Runtime, job: Job, kind: MediaKind, indexes: list[int], wish: str, asked_at: datetime | None
) -> None:
    """The named segments' image prompts, or their clips' motion prompts, rewritten with the
    user's words in one LLM call that keeps the prompts' rules (English, their length, no text):
    images in the video's visual world (every image prompt in view), motions for the picture
    each animates. A retry finds them rewritten since the wish was given (<prompt>_generated_at)
    and calls nothing."""
    rows = segments.get_segments(rt.db, job.id)
    named = [s for s in rows if s.segment_index in indexes]
    stamp = f"{kind.prompt_column}_generated_at"
    if asked_at and all(getattr(s, stamp) and getattr(s, stamp) > asked_at for s in named):
        return
    role = f"revise_{kind.prompt_column}s"  # revise_image_prompts, revise_animation_prompts
    prompts = [s.prompt(kind) or "" for s in named]
    with usage.paid_call(rt.db, rt.settings, usage.llm_call(rt.settings, job.id, "revise_stage", role)) as bill:
        if kind is IMAGE:
            written = rt.llm.revise_image_prompts(job.prompt, prompts, wish, [s.image_prompt or "" for s in rows])
        else:
            written = rt.llm.revise_animation_prompts(job.prompt, prompts, wish, [s.image_prompt or "" for s in named])
        bill.llm(written.usage)
    revised = expect_segments(written.items, len(named), f"revised {kind.prompt_column}s")
    for seg, prompt in zip(named, revised, strict=True):
        segments.update_segment(rt.db, job.id, seg.segment_index, **{kind.prompt_column: prompt, stamp: NOW})


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
