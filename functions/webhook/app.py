"""WebhookFunction: Telegram -> API Gateway HTTP API (payload v2) -> the bot."""

from videobot import runtime
from videobot.telegram.webhook import handle_event


def lambda_handler(event: dict, context=None) -> dict:
    return handle_event(runtime.current(), event)
