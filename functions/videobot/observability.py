"""Logging for every function: Powertools Logger with job_id and stage on each line."""

from __future__ import annotations

import functools
from typing import Any, Callable

from aws_lambda_powertools import Logger

logger = Logger(service="video-bot")

_STAGE_KEYS = ["stage", "job_id", "segment_index"]


def stage_handler(stage: str) -> Callable:
    """Wrap a Lambda handler: tag every log line with the stage, the job and the segment.

    Keys are thread-local, because the local runner calls handlers from many threads.
    """

    def decorate(fn: Callable[[dict, Any], dict]) -> Callable[[dict, Any], dict]:
        @functools.wraps(fn)
        def wrapper(event: dict, context: Any = None) -> dict:
            keys = {"stage": stage}
            if isinstance(event, dict):
                keys["job_id"] = event.get("job_id")
                if "segment_index" in event:
                    keys["segment_index"] = event["segment_index"]
            logger.thread_safe_append_keys(**keys)
            try:
                logger.info("stage started")
                result = fn(event, context)
                logger.info("stage finished")
                return result
            except Exception as exc:
                logger.warning("stage failed", extra={"error_type": type(exc).__name__, "error": str(exc)})
                raise
            finally:
                logger.thread_safe_remove_keys(_STAGE_KEYS)

        return wrapper

    return decorate


# ---- Security (issue 6): no secret in any log line ------------------------------------------
# python-telegram-bot and httpx log the Bot API URL, which carries the bot token; an SDK or a
# stage could log a key. Every record (any library's) is redacted when it is made; the
# Powertools logger's `extra` fields, added after that, are redacted by a filter.
import logging  # noqa: E402
import re  # noqa: E402

REDACTED = "<redacted>"
_BOT_TOKEN_IN_URL = re.compile(r"(/(?:file/)?bot)\d+:[A-Za-z0-9_-]+")
_secrets: set[str] = set()


def register_secrets(*values: str | None) -> None:
    """Values never to be logged (the settings register the token, the webhook secret, the keys)."""
    _secrets.update(v for v in values if v and len(v) >= 6)


def _leaks(text: str) -> bool:
    return bool(_BOT_TOKEN_IN_URL.search(text)) or any(s in text for s in tuple(_secrets))


def redact(text: str) -> str:
    text = _BOT_TOKEN_IN_URL.sub(rf"\1{REDACTED}", text)
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _redact_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record is left to logging's own error path
        return record
    if _leaks(message):
        record.msg, record.args = redact(message), None
    for key, value in list(record.__dict__.items()):
        if key != "msg" and isinstance(value, str) and _leaks(value):
            setattr(record, key, redact(value))
    return record


_make_record = logging.getLogRecordFactory()
if not getattr(_make_record, "redacts_secrets", False):
    def _redacting_factory(*args, **kwargs) -> logging.LogRecord:
        return _redact_record(_make_record(*args, **kwargs))

    _redacting_factory.redacts_secrets = True
    logging.setLogRecordFactory(_redacting_factory)


class _RedactExtras(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


logger.addFilter(_RedactExtras())
