"""WriteAnimationPrompts: one motion prompt per segment for the clip vendor: the drafts
written with the image prompts, and for every segment without one (its image was made again
after the draft: a redo at the gate, a new prompt for a refused image; or no draft was written)
a prompt written now for the picture that exists, in one LLM call for all of them."""

from __future__ import annotations

from videobot import usage
from videobot.data import jobs, segments
from videobot.data.db import NOW
from videobot.pipeline import CLIP
from videobot.runtime import Runtime
from videobot.stages.animate_clips import CLIPS
from videobot.stages.common import expect_segments


def write_animation_prompts(rt: Runtime, job_id: str) -> dict:
    job = jobs.update_job(rt.db, job_id, status=CLIP.generating)
    rows = segments.get_segments(rt.db, job_id)
    if all(s.animation_prompt for s in rows):
        return {"prompts": len(rows), "reserved": CLIPS.reserve_generations(rt, job_id)}
    prompts = {s.segment_index: s.animation_prompt_draft for s in rows if s.animation_prompt_draft}
    missing = [s for s in rows if s.segment_index not in prompts]
    if missing:  # all ten, or the images made again since their prompts were drafted
        call = usage.llm_call(rt.settings, job_id, "write_animation_prompts", "animation_prompts")
        with usage.paid_call(rt.db, rt.settings, call) as bill:
            written = rt.llm.write_animation_prompts(
                job.prompt, [s.text for s in missing], [s.image_prompt for s in missing]
            )
            bill.llm(written.usage)
        fresh = expect_segments(written.items, len(missing), "animation prompts")
        prompts.update(zip((s.segment_index for s in missing), fresh, strict=True))
    for seg in rows:
        if not seg.animation_prompt:
            segments.update_segment(
                rt.db,
                job_id,
                seg.segment_index,
                animation_prompt=prompts[seg.segment_index],
                animation_prompt_generated_at=NOW,
                status=CLIP.prompt_ready,
            )
    # AnimateClips' tasks, reserved before its Map starts (Runway's daily cap, the budgets)
    return {
        "prompts": len(rows),
        "written": [s.segment_index for s in missing],
        "reserved": CLIPS.reserve_generations(rt, job_id),
    }
