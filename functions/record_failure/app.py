"""RecordFailure: any other failure; record the reason on the job and tell the user."""

from videobot import lifecycle, runtime
from videobot.observability import stage_handler


@stage_handler("record_failure")
def lambda_handler(event: dict, context=None) -> dict:
    return lifecycle.record_failure(runtime.current(), event["job_id"], event.get("error"))
