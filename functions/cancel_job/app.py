"""CancelJob: a rejected job ends, its media and rows are cleared (the seed's Reject)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("cancel_job")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.cancel_job(event["job_id"], event.get("error"))
