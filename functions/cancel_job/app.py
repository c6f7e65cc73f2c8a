"""CancelJob: a rejected job ends; its media and rows are cleared."""

from videobot import lifecycle
from videobot.entry import stage_handler
from videobot.runtime import Runtime


@stage_handler("cancel_job")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return lifecycle.cancel_job(rt, event["job_id"])
