"""WriteImagePrompts: one image prompt per segment, the whole script in view."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.stages.write_image_prompts import write_image_prompts


@stage_handler("write_image_prompts")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return write_image_prompts(rt, event["job_id"])
