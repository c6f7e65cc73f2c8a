"""WriteImagePrompts: ten image prompts in one call, the whole script in view (seed stage 5)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("write_image_prompts")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.write_image_prompts(event["job_id"])
