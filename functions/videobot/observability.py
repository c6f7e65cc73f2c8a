"""Observability for every function, in one place: the Powertools Logger (job_id and stage
on each line, no secret in any line) and Powertools Metrics in CloudWatch's embedded metric
format: each stage's duration and outcome, each vendor call's latency, and the events the
operator's dashboard (template.yaml's OperatorDashboard) counts where they happen: jobs started
and ended (JobsStarted, JobsEnded by outcome), vendor spend (VendorSpendUsd by vendor), Runway's
queue (RunwayTasksQueued, RunwayQueueSeconds).

Metrics are written as log lines (EMF), so they need no X-Ray or extra permission;
POWERTOOLS_METRICS_DISABLED=1 (the local runner and tests) keeps them out of the output."""

from __future__ import annotations

import functools
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = "video-bot"
logger = Logger(service=SERVICE)

_STAGE_KEYS = ["stage", "job_id", "segment_index"]


def _namespace() -> str:
    return os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "VideoBot"


def put_metric(name: str, value: float, unit: MetricUnit = MetricUnit.Milliseconds, **dimensions: str) -> None:
    """One metric, flushed at once (safe from the local runner's many threads). Never fails
    the caller."""
    if is_metrics_disabled():
        return
    try:
        with single_metric(name=name, unit=unit, value=value, namespace=_namespace()) as metric:
            metric.add_dimension(name="service", value=SERVICE)
            for key, dim in dimensions.items():
                metric.add_dimension(name=key, value=str(dim))
    except Exception as exc:  # noqa: BLE001 - a metric is never worth a failed stage
        logger.debug("metric not written", extra={"metric": name, "error": str(exc)})


def count(name: str, **dimensions: str) -> None:
    """One occurrence of an event (a Count metric)."""
    put_metric(name, 1, MetricUnit.Count, **dimensions)


@contextmanager
def metrics_for_vendor_call(kind: str, call: str) -> Iterator[None]:
    """VendorCallDuration (ms) by kind (image, video, llm, speech) and call, and VendorCallErrors."""
    started = time.monotonic()
    try:
        yield
    except Exception:
        put_metric("VendorCallErrors", 1, MetricUnit.Count, kind=kind, call=call)
        raise
    finally:
        put_metric("VendorCallDuration", (time.monotonic() - started) * 1000, kind=kind, call=call)


@contextmanager
def observe_stage(stage: str, event: Any) -> Iterator[None]:
    """Around one invocation of a stage: every log line tagged with the stage, the job and the
    segment; "stage started/finished/failed" logged; StageDuration by outcome measured.

    Keys are thread-local, because the local runner calls handlers from many threads."""
    keys: dict[str, Any] = {"stage": stage}
    if isinstance(event, dict):
        keys["job_id"] = event.get("job_id")
        if "segment_index" in event:
            keys["segment_index"] = event["segment_index"]
    logger.thread_safe_append_keys(**keys)
    started, outcome = time.monotonic(), "succeeded"
    try:
        logger.info("stage started")
        yield
        logger.info("stage finished")
    except Exception as exc:
        outcome = type(exc).__name__
        logger.warning("stage failed", extra={"error_type": outcome, "error": str(exc)})
        raise
    finally:
        put_metric("StageDuration", (time.monotonic() - started) * 1000, stage=stage, outcome=outcome)
        logger.thread_safe_remove_keys(_STAGE_KEYS)


def stage_handler(stage: str) -> Callable:
    """Wrap a Lambda handler `(event, context)` in `observe_stage`."""

    def decorate(fn: Callable[[dict, Any], dict]) -> Callable[[dict, Any], dict]:
        @functools.wraps(fn)
        def wrapper(event: dict, context: Any = None) -> dict:
            with observe_stage(stage, event):
                return fn(event, context)

        return wrapper

    return decorate


# ---- No secret in any log line ---------------------------------------------------------------
# python-telegram-bot and httpx log the Bot API URL, which carries the bot token; an SDK or a
# stage could log a key, and an exception's message can carry one (InvalidToken names the bot
# token; a vendor's error may echo a key). Every record (any library's) is redacted when it is
# made, its exception (and so its traceback) too; the Powertools logger's `extra` fields, added
# after that, are redacted by a filter; an exception leaving a handler is scrubbed
# (videobot.entry), so the Lambda runtime's report and Step Functions' Cause carry none either.
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


def _attribute_names(obj: object) -> set[str]:
    """An object's own attributes: its __dict__ and the __slots__ of its classes
    (python-telegram-bot's errors keep `message` in a slot)."""
    names = set(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names.update((slots,) if isinstance(slots, str) else slots)
    return names


def scrub(exc: BaseException | None) -> BaseException | None:
    """Redact secrets from an exception, in place: its message (args), its string attributes
    (python-telegram-bot's `message`: InvalidToken's names the token) and every exception it
    chains (`__cause__`, `__context__`). A traceback formatted after this, by any logger or by
    the Lambda runtime reporting it, carries no secret; its class (the ASL error name) is kept."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        try:
            current.args = tuple(redact(a) if isinstance(a, str) and _leaks(a) else a for a in current.args)
            for key in _attribute_names(current):
                value = getattr(current, key, None)
                if isinstance(value, str) and _leaks(value):
                    setattr(current, key, redact(value))
        except Exception:  # noqa: BLE001 - an exception type that refuses new args keeps them
            pass
        pending += [current.__cause__, current.__context__]
    return exc


def _redact_record(record: logging.LogRecord) -> logging.LogRecord:
    if isinstance(record.exc_info, tuple) and record.exc_info[1] is not None:
        scrub(record.exc_info[1])  # the traceback is formatted later, from the exception
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

    _redacting_factory.redacts_secrets = True  # type: ignore[attr-defined]  # a mark on the function, read above
    logging.setLogRecordFactory(_redacting_factory)


class _RedactExtras(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


logger.addFilter(_RedactExtras())
