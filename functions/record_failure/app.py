"""RecordFailure: any other failure; record the reason on the job and tell the user."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("record_failure")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.record_failure(event["job_id"], event.get("error"))
