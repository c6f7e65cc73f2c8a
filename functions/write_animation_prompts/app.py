"""WriteAnimationPrompts: ten animation prompts in one call (seed stage 8)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("write_animation_prompts")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.write_animation_prompts(event["job_id"])
