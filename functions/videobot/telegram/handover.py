"""Handing the webhook's slow work to HandleSlowUpdateFunction (videobot.telegram.slow_work):
the webhook answers Telegram within its 29 s and invokes the worker asynchronously (Lambda
Invoke, InvocationType=Event, answered 202 at once)."""

from __future__ import annotations

import json

from videobot.errors import ConfigurationError, VendorUnavailable
from videobot.observability import logger
from videobot.runtime import Runtime

RESEND_VIDEO = "resend_video"
VOICE_FEEDBACK = "voice_feedback"


def hand_over(rt: Runtime, kind: str, **payload) -> None:
    """Invoke the worker asynchronously. A failed invoke is transient for the webhook (a 5xx:
    Telegram delivers the update again)."""
    name = rt.settings.aws.slow_update_function_name
    if not name:
        raise ConfigurationError("SLOW_UPDATE_FUNCTION_NAME is not set")
    try:
        answer = rt.lambdas.invoke(
            FunctionName=name, InvocationType="Event", Payload=json.dumps({"kind": kind, **payload}).encode()
        )
    except Exception as exc:
        raise VendorUnavailable(f"Lambda did not take the {kind} work: {type(exc).__name__}") from exc
    if answer.get("StatusCode") != 202:
        raise VendorUnavailable(f"Lambda answered {answer.get('StatusCode')} to an Event invoke")
    logger.info("slow work handed over", extra={"kind": kind})
