"""GenerateScript: the topic becomes the script, one narration part per segment."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.stages.generate_script import generate_script


@stage_handler("generate_script")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return generate_script(rt, event["job_id"])
