"""WriteAnimationPrompts: one motion prompt per segment."""

from videobot import runtime
from videobot.observability import stage_handler
from videobot.stages.write_animation_prompts import write_animation_prompts


@stage_handler("write_animation_prompts")
def lambda_handler(event: dict, context=None) -> dict:
    return write_animation_prompts(runtime.current(), event["job_id"])
