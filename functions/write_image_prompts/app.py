"""WriteImagePrompts: one image prompt per segment, the whole script in view."""

from videobot import runtime
from videobot.observability import stage_handler
from videobot.stages.write_image_prompts import write_image_prompts


@stage_handler("write_image_prompts")
def lambda_handler(event: dict, context=None) -> dict:
    return write_image_prompts(runtime.current(), event["job_id"])
