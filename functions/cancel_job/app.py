"""CancelJob: a rejected job ends; its media and rows are cleared."""

from videobot import lifecycle, runtime
from videobot.observability import stage_handler


@stage_handler("cancel_job")
def lambda_handler(event: dict, context=None) -> dict:
    return lifecycle.cancel_job(runtime.current(), event["job_id"])
