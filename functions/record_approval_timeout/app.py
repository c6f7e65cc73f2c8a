"""RecordApprovalTimeout: no answer within the approval window; record it and tell the user."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("record_approval_timeout")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.record_approval_timeout(event["job_id"], event.get("error"))
