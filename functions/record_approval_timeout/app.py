"""RecordApprovalTimeout: no answer within the approval window; record it and tell the user."""

from videobot import lifecycle, runtime
from videobot.observability import stage_handler


@stage_handler("record_approval_timeout")
def lambda_handler(event: dict, context=None) -> dict:
    return lifecycle.record_approval_timeout(runtime.current(), event["job_id"])
