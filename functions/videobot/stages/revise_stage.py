"""ReviseScript, RedoImages, RedoClips: act on the feedback given at a gate
(videobot.control.revise). The script is rewritten with it, then asked about again; for
images or clips only the named segments are cleared, and the state machine's loop back into
the Map makes exactly those again (the others are done and return at once). Idempotent: a
retry finds the work done or the rows cleared."""

from __future__ import annotations

from videobot.data import gates, jobs, segments
from videobot.runtime import Runtime
from videobot.stages.generate_script import revise_script

_REDO_FIELDS = {
    "images": {
        "image_path": None,
        "image_runway_task_id": None,
        "image_generated_at": None,
        "image_submissions": 0,
        "image_submitted_at": None,
        "status": "image_prompt_ready",
        "error_message": None,
    },
    "videos": {
        "video_path": None,
        "video_runway_task_id": None,
        "video_generated_at": None,
        "video_duration": None,
        "video_submissions": 0,
        "video_submitted_at": None,
        "status": "animation_prompt_ready",
        "error_message": None,
    },
}
_PROMPT_COLUMN = {"images": "image_prompt", "videos": "animation_prompt"}


def revise_stage(rt: Runtime, job_id: str, stage: str, segment_index: int | None = None) -> dict:
    if stage in jobs.REFUSAL_KINDS:
        return _resolve_refusal(job_id, stage, int(segment_index))
    gate = gates.get_gate(job_id, stage)
    if gate is None or gate.decision != "revised":
        raise ValueError(f"no revision was asked for at the {stage} gate of job {job_id}")
    if stage == "script":
        job = jobs.get_job(job_id)
        already = job.script_generated_at and gate.decided_at and job.script_generated_at > gate.decided_at
        if not already:  # else a retry: already rewritten
            revise_script(rt, job_id, gate.feedback)
        return {"stage": stage, "revision": gate.revisions}
    indexes = sorted(set(gate.redo_segments or []))
    jobs.update_job(job_id, status="generating_images" if stage == "images" else "generating_videos")
    column = _PROMPT_COLUMN[stage]
    for index in indexes:  # (a clip's prepared segment is overwritten when it is made again)
        prompt = getattr(segments.get_segment(job_id, index), column) or ""
        extra = {column: f"{prompt}. {gate.feedback}"} if gate.feedback and gate.feedback not in prompt else {}
        segments.update_segment(job_id, index, **_REDO_FIELDS[stage], **extra)  # the user's words join the prompt
    return {"stage": stage, "revision": gate.revisions, "segments": indexes}


_REFUSAL_FIELDS = {"refused_image": ("images", "image_prompt"), "refused_clip": ("videos", "animation_prompt")}


def _resolve_refusal(job_id: str, kind: str, index: int) -> dict:
    """ResolveRefusedImage / ResolveRefusedClip: the user answered a refused segment with a new
    prompt (the gate's feedback) or a retry. Clear its refused task so the loop back into
    SubmitImage / SubmitClip pays for exactly one new one; nothing else is touched. A retry of
    this Lambda sets the same values again."""
    stage = jobs.refusal_stage(kind, index)
    gate = gates.get_gate(job_id, stage)
    if gate is None or gate.decision != "revised":
        raise ValueError(f"no answer was given at the {stage} gate of job {job_id}")
    redo, column = _REFUSAL_FIELDS[kind]
    extra = {column: gate.feedback} if gate.feedback else {}
    segments.update_segment(job_id, index, **_REDO_FIELDS[redo], **extra)
    return {"stage": stage, "revision": gate.revisions, "new_prompt": bool(gate.feedback)}
