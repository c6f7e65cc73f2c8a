"""RecordFailure: any other failure; record the reason on the job and tell the user."""

from videobot import lifecycle
from videobot.entry import stage_handler
from videobot.runtime import Runtime


@stage_handler("record_failure")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return lifecycle.record_failure(rt, event["job_id"], event.get("error"))
