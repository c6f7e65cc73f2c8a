"""GenerateScript: the script writer turns the topic into 10 narration parts (seed stage 2)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("generate_script")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.generate_script(event["job_id"])
