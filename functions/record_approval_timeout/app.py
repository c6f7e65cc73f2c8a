"""RecordApprovalTimeout: no answer within the approval window; record it and tell the user."""

from videobot import lifecycle
from videobot.entry import stage_handler
from videobot.runtime import Runtime


@stage_handler("record_approval_timeout")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return lifecycle.record_approval_timeout(rt, event["job_id"])
