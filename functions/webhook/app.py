"""WebhookFunction: Telegram -> API Gateway HTTP API (payload v2) -> the bot."""

from videobot.entry import handler
from videobot.runtime import Runtime
from videobot.telegram.webhook import handle_event


@handler
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return handle_event(rt, event)
