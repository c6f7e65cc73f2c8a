"""What every Lambda entry point (functions/<name>/app.py) shares: the process's runtime, built
once from its environment, and the handler that hands it to the stage.

On AWS each function is its own process: `lambda_handler(event, context)` builds the runtime
from that function's environment on its first invocation and keeps it while the container is
warm. The local runner and the tests hold a runtime of their own and call
`lambda_handler.run(rt, event, context)`. This module and the entry points are the only code
that builds a runtime from the environment; everything below them is given `rt`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from videobot import runtime
from videobot.observability import observe_stage, scrub
from videobot.runtime import Runtime

_lock = threading.Lock()
_process_runtime: Runtime | None = None


class LambdaContext(Protocol):
    """What the handlers use of Lambda's context object (the local endpoint gives the same)."""

    def get_remaining_time_in_millis(self) -> int: ...


Handler = Callable[[Runtime, dict, "LambdaContext | None"], dict]


def process_runtime() -> Runtime:
    """This process's runtime, built from its environment on first use."""
    global _process_runtime
    with _lock:
        if _process_runtime is None:
            _process_runtime = runtime.from_environment()
        return _process_runtime


class LambdaHandler:
    """A Lambda handler: called by Lambda with (event, context), it runs `fn(rt, event, context)`
    with the process's runtime; `run` does the same with a runtime the caller holds."""

    def __init__(self, fn: Handler, stage: str | None = None):
        self.fn, self.stage = fn, stage
        self.__doc__, self.__name__ = fn.__doc__, fn.__name__

    def __call__(self, event: dict, context: LambdaContext | None = None) -> dict:
        return self.run(process_runtime(), event, context)

    def run(self, rt: Runtime, event: dict, context: LambdaContext | None = None) -> dict:
        """An exception that leaves is scrubbed of secrets first: the Lambda runtime logs it and
        reports its message (Step Functions' Cause, stored as the job's error)."""
        try:
            if self.stage is None:
                return self.fn(rt, event, context)
            with observe_stage(self.stage, event):
                return self.fn(rt, event, context)
        except Exception as exc:
            scrub(exc)
            raise


def stage_handler(stage: str) -> Callable[[Handler], LambdaHandler]:
    """A stage's handler: its log lines tagged with the stage, the job and the segment, its
    duration and outcome measured (videobot.observability.observe_stage)."""
    return lambda fn: LambdaHandler(fn, stage)


def handler(fn: Handler) -> LambdaHandler:
    """A handler without the stage's logging (the webhook, the custom resource)."""
    return LambdaHandler(fn)


def deadline(context: LambdaContext | None) -> float | None:
    """The time.monotonic() at which this invocation ends (Lambda's context: its remaining
    time), or None without a context (a direct call)."""
    if context is None:
        return None
    return time.monotonic() + context.get_remaining_time_in_millis() / 1000
