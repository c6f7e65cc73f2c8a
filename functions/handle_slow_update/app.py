"""HandleSlowUpdateFunction: the webhook's slow work, invoked asynchronously."""

from videobot import runtime
from videobot.observability import stage_handler
from videobot.telegram.slow_work import handle


@stage_handler("handle_slow_update")
def lambda_handler(event: dict, context=None) -> dict:
    return handle(runtime.current(), event)
