"""HandleSlowUpdateFunction: the webhook's slow work, invoked asynchronously."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.telegram.slow_work import handle


@stage_handler("handle_slow_update")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return handle(rt, event)
