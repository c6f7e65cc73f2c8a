"""GenerateScript: the topic becomes the script, one narration part per segment."""

from videobot import runtime
from videobot.observability import stage_handler
from videobot.stages.generate_script import generate_script


@stage_handler("generate_script")
def lambda_handler(event: dict, context=None) -> dict:
    return generate_script(runtime.current(), event["job_id"])
