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
