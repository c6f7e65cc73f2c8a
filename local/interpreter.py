"""moto's Step Functions interpreter, made cheap to run many times over.

A job is one pipeline execution and about thirty child executions (a segment's image or clip:
local/child_executions.py). moto 5.2's interpreter pays these per execution, per state or per
call, for nothing a job needs (measured with `py-spy record --gil` over the whole test suite:
together more than a third of its Python CPU; docs/benchmarks.md):

- **Each execution parses its definition again** with ANTLR's pure-Python runtime (about 50 ms
  for the pipeline's). A definition's parse tree depends only on its text, so each text is
  parsed once (`parse_each_definition_once`): the syntax check and the tree are the parser's
  own, and each execution still gets new evaluation components, built from that tree by moto's
  own Preprocessor as before (a component tree is not shared between executions).
- **Each path it reads builds a JSONPath parser**, tables and all: one parse per path.
- **Each optimized integration call makes a new boto3 client** (tens of ms of CPU: a Lambda
  invoke per Task, a StartExecution and DescribeExecution per child). One client serves each
  region, service, endpoint and botocore session (`one_client_per_session`), with room for a
  Map's concurrent invocations; a new default session, made when the IAM rehearsal installs or
  removes its hook (local/iam.py), gets new clients, which see the hook.
- **A `.sync` child is followed by polling** DescribeExecution every 0.5 s (AWS is told by an
  EventBridge rule). `follow_children_when_they_end` wakes each follower as soon as any
  execution ends instead, so a parent moves on at once without asking twenty times a second;
  a short poll stays as a safety net (`SYNC_CHECK_SECONDS`).
"""

from __future__ import annotations

import functools
import os
import threading
import time
from typing import Any

# The .sync follower's safety net: an end it was not woken for is still seen within this.
SYNC_CHECK_SECONDS = 0.2


def parse_each_definition_once() -> None:
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    cls = asl_parser.AmazonStateLanguageParser
    if getattr(cls, "_parses_once", False):
        return
    parse = cls.parse

    @functools.lru_cache(maxsize=64)
    def tree_of(definition: str) -> Any:
        return parse(definition)[1]  # raises ASLParserException as before

    def parse_once(definition: str) -> tuple[Any, Any]:
        tree = tree_of(definition)
        return Preprocessor().visit(tree), tree

    cls.parse = staticmethod(parse_once)  # type: ignore[method-assign]
    cls._parses_once = True  # type: ignore[attr-defined]


def one_client_per_session() -> None:
    import boto3
    from botocore.config import Config
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn
    from moto.stepfunctions.parser.asl.utils import boto_client

    if getattr(boto_client, "_one_per_session", False):
        return
    clients: dict[tuple, Any] = {}
    lock = threading.Lock()

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        """moto's own boto_client_for (its credentials and config), kept per region, service,
        endpoint and session: the key holds the session itself, never a reused id."""
        intercepted = botocore_stubber.enabled
        endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL")
        session = boto3._get_default_session()
        key = (region, service, endpoint, intercepted, session)
        with lock:
            if key not in clients:
                clients[key] = session.client(
                    service,
                    region_name=region,
                    aws_access_key_id="ak",
                    aws_secret_access_key="sk",
                    endpoint_url=None if intercepted else f"http://localhost:{moto_server_port()}",
                    config=Config(
                        parameter_validation=False,
                        retries={"max_attempts": 0, "total_max_attempts": 1},
                        connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                        read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                        max_pool_connections=64,  # a Map's concurrent invocations on the one client
                    ),
                )
            return clients[key]

    for module in (boto_client, lambda_eval_utils, state_task_service_sfn):
        module.boto_client_for = client_for  # type: ignore[attr-defined]
    boto_client._one_per_session = True  # type: ignore[attr-defined]


def one_parse_per_path() -> None:
    import jsonpath_ng
    import jsonpath_ng.ext
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    json_path.parse = functools.lru_cache(maxsize=None)(jsonpath_ng.ext.parse)
    result_path.parse = functools.lru_cache(maxsize=None)(jsonpath_ng.parse)


class _Ends:
    """A count of ended executions that a follower can sleep on: `seen()` before it asks for
    its child's status, `sleep()` after, which returns as soon as any execution has ended since."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0
        self._seen = threading.local()
        self.woken = 0  # sleeps an end cut short (tests/unit/test_local_interpreter.py)

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
            if self._changed.wait_for(lambda: self._count != seen, timeout=seconds):
                self.woken += 1
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


@functools.cache  # once a process
def run_cheaply() -> None:
    """All four."""
    parse_each_definition_once()
    one_parse_per_path()
    one_client_per_session()
    follow_children_when_they_end()
