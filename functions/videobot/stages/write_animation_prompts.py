"""WriteAnimationPrompts: one motion prompt per segment for the clip vendor (the drafts
written with the image prompts, or a call of their own)."""

from __future__ import annotations

from videobot import usage
from videobot.data import jobs, segments
from videobot.data.db import NOW
from videobot.pipeline import CLIP
from videobot.runtime import Runtime
from videobot.stages.animate_clips import CLIPS
from videobot.stages.common import expect_segments, required


def write_animation_prompts(rt: Runtime, job_id: str) -> dict:
    job = jobs.update_job(rt.db, job_id, status=CLIP.generating)
    rows = segments.get_segments(rt.db, job_id)
    if all(s.animation_prompt for s in rows):
        return {"prompts": len(rows), "reserved": CLIPS.reserve_generations(rt, job_id)}
    if all(s.animation_prompt_draft for s in rows):
        prompts = [required(s.animation_prompt_draft, "an animation prompt draft") for s in rows]
    else:
        call = usage.llm_call(rt.settings, job_id, "write_animation_prompts", "animation_prompts")
        with usage.paid_call(rt.db, rt.settings, call) as bill:
            written = rt.llm.write_animation_prompts(job.prompt, [s.text for s in rows], [s.image_prompt for s in rows])
            bill.llm(written.usage)
        prompts = expect_segments(written.items, rt.settings.pipeline.segment_count, "animation prompts")
    for seg, prompt in zip(rows, prompts, strict=True):
        if not seg.animation_prompt:
            segments.update_segment(
                rt.db,
                job_id,
                seg.segment_index,
                animation_prompt=prompt,
                animation_prompt_generated_at=NOW,
                status=CLIP.prompt_ready,
            )
    # AnimateClips' tasks, reserved before its Map starts (Runway's daily cap, the budgets)
    return {"prompts": len(prompts), "reserved": CLIPS.reserve_generations(rt, job_id)}
