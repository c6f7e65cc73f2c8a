"""WriteAnimationPrompts: one motion prompt per segment."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.stages.write_animation_prompts import write_animation_prompts


@stage_handler("write_animation_prompts")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return write_animation_prompts(rt, event["job_id"])
