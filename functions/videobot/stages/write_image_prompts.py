"""WriteImagePrompts: one image prompt per segment, with the whole script in view. A real
LLM writes the animation prompts in the same call; they wait (animation_prompt_draft) until
the images are approved."""

from __future__ import annotations

from videobot import usage
from videobot.data import jobs, segments
from videobot.data.db import NOW
from videobot.pipeline import IMAGE
from videobot.runtime import Runtime
from videobot.stages.common import expect_segments
from videobot.stages.generate_images import IMAGES


def write_image_prompts(rt: Runtime, job_id: str) -> dict:
    job = jobs.update_job(rt.db, job_id, status=IMAGE.generating)
    rows = segments.get_segments(rt.db, job_id)
    if all(s.image_prompt for s in rows):
        return {"prompts": len(rows), "reserved": IMAGES.reserve_generations(rt, job_id)}
    call = usage.llm_call(rt.settings, job_id, "write_image_prompts", "image_prompts")
    with usage.paid_call(rt.db, rt.settings, call) as bill:
        written = rt.llm.write_image_prompts(job.prompt, [s.text for s in rows])
        bill.llm(written.usage)
    prompts = expect_segments(written.items, rt.settings.pipeline.segment_count, "image prompts")
    drafts = written.animation or [None] * len(prompts)
    for seg, prompt, draft in zip(rows, prompts, drafts, strict=True):
        if not seg.image_prompt:
            segments.update_segment(
                rt.db,
                job_id,
                seg.segment_index,
                image_prompt=prompt,
                animation_prompt_draft=draft,
                image_prompt_generated_at=NOW,
                status=IMAGE.prompt_ready,
            )
    # GenerateImages' tasks, reserved before its Map starts (Runway's daily cap, the budgets)
    return {"prompts": len(prompts), "reserved": IMAGES.reserve_generations(rt, job_id)}
