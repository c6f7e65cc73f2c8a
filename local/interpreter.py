"""moto's Step Functions interpreter, made cheap to run many times over.

A job is one pipeline execution and about thirty child executions (a segment's image or clip:
local/child_executions.py). Three of moto's costs grow with that count, none of which is part of
what the interpreter does with a definition; measured with `py-spy record --gil` over the whole
test suite (docs/benchmarks.md), together about a third of its Python CPU:

- **Each execution parses its definition again** with ANTLR's pure-Python runtime (about 50 ms
  for the pipeline's). A definition's parse tree depends only on its text, so each text is
  parsed once (`parse_each_definition_once`): the syntax check and the tree are the parser's
  own, and each execution still gets new evaluation components, built from that tree by moto's
  own Preprocessor as before (a component tree is not shared between executions).
- **Each optimized integration call makes a new boto3 client** (`boto_client_for`: a Lambda
  invoke per Task, a StartExecution and DescribeExecution per child). A client is kept per
  region, service and botocore session (`one_client_per_session`): a new session, made when
  the IAM rehearsal installs or removes its hook (local/iam.py), still gets new clients with it.
- **A `.sync` child is followed by polling** DescribeExecution every 0.5 s (AWS is told by an
  EventBridge rule). `follow_children_when_they_end` wakes each follower as soon as any
  execution ends instead, so a parent moves on at once without asking a thousand times; its
  poll interval stays as a safety net.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from typing import Any

# The .sync follower's safety-net interval: an end it was not woken for is seen within it.
SYNC_CHECK_SECONDS = 0.5


def parse_each_definition_once() -> None:
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    cls = asl_parser.AmazonStateLanguageParser
    if getattr(cls, "_parses_once", False):
        return
    parse = cls.parse

    @lru_cache(maxsize=64)
    def tree_of(definition: str) -> Any:
        return parse(definition)[1]  # raises ASLParserException as before

    def parse_once(definition: str) -> tuple[Any, Any]:
        tree = tree_of(definition)
        return Preprocessor().visit(tree), tree

    cls.parse = staticmethod(parse_once)  # type: ignore[method-assign]
    cls._parses_once = True  # type: ignore[attr-defined]


def one_client_per_session() -> None:
    import boto3
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn
    from moto.stepfunctions.parser.asl.utils import boto_client

    if getattr(boto_client, "_one_per_session", False):
        return
    make = boto_client.boto_client_for
    clients: dict[tuple, Any] = {}
    lock = threading.Lock()

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service, boto_client.botocore_stubber.enabled, id(boto3._get_default_session()))
        with lock:
            client = clients.get(key)
            if client is None:
                client = clients[key] = make(region=region, service=service, state_credentials=state_credentials)
            return client

    for module in (boto_client, lambda_eval_utils, state_task_service_sfn):
        module.boto_client_for = client_for  # type: ignore[attr-defined]
    boto_client._one_per_session = True  # type: ignore[attr-defined]


class _Ends:
    """A count of ended executions that a follower can sleep on: `seen()` before it asks for
    its child's status, `sleep()` after, which returns as soon as any execution has ended since."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0
        self._seen = threading.local()

    @property
    def count(self) -> int:
        """How many executions have ended in this process."""
        return self._count

    def ended(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def seen(self) -> None:
        self._seen.count = self._count

    def sleep(self, seconds: float) -> None:
        seen = getattr(self._seen, "count", None)
        if seen is None:  # a sleep no follower asked for: moto's own
            time.sleep(seconds)
            return
        with self._changed:
            self._changed.wait_for(lambda: self._count != seen, timeout=seconds)
        self._seen.count = None


ENDS = _Ends()


class _TimeWithFollowersSleep:
    """The `time` module as the interpreter's callback module sees it, with `sleep` waking on an
    execution's end."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        ENDS.sleep(seconds)


def follow_children_when_they_end() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn as sfn
    from moto.stepfunctions.parser.backend import execution

    if getattr(callback, "_follows_ends", False):
        return
    comm = execution.BaseExecutionWorkerCommunication
    terminated = comm.terminated

    def terminated_and_told(self: Any) -> None:
        terminated(self)
        ENDS.ended()

    comm.terminated = terminated_and_told  # type: ignore[method-assign]
    task = sfn.StateTaskServiceSfn
    for name in ("_build_sync_resolver", "_build_sync2_resolver"):
        build = getattr(task, name)

        def build_marking(self: Any, *args: Any, _build: Any = build, **kwargs: Any) -> Any:
            resolve = _build(self, *args, **kwargs)
            if resolve is None:
                return None

            def resolve_after_marking() -> Any:
                ENDS.seen()  # before the status is read: an end after it wakes the sleep
                return resolve()

            return resolve_after_marking

        setattr(task, name, build_marking)
    callback.time = _TimeWithFollowersSleep()  # type: ignore[assignment]
    callback._DELAY_SECONDS_SYNC_CONDITION_CHECK = SYNC_CHECK_SECONDS  # type: ignore[misc]
    callback._follows_ends = True  # type: ignore[attr-defined]


def run_cheaply() -> None:
    """All three, once per process (each is idempotent)."""
    parse_each_definition_once()
    one_client_per_session()
    follow_children_when_they_end()
