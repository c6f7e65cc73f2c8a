"""ReviseScript / RedoImages / RedoClips: act on the feedback given at a gate (issue 9): rewrite the script, or clear the named segments' images or clips so the loop back into the Map makes them again."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("revise_stage")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.revise_stage(event["job_id"], event["stage"])
