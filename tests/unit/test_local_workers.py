"""local/workers.py: each function's invocations in warm worker processes of its own."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from local.iam import Principal
from local.lambda_endpoint import LambdaContext
from local.workers import FunctionError, FunctionPool, start_fork_server

calls = 0  # module state: a worker keeps its own


def remember(event, context):
    """What a worker sees: its process, its environment, its module state, Lambda's context."""
    global calls
    calls += 1
    time.sleep(event.get("sleep", 0))
    return {
        "pid": os.getpid(),
        "calls": calls,
        "name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        "leak": os.environ.get("ONLY_THE_OTHER_FUNCTION"),
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


def speak(event, context):
    """A function's log line (Powertools' JSON, to stdout) and a line on stderr; where they went."""
    import sys

    from videobot.observability import logger

    logger.info("worker says hello", extra={"job_id": event["job_id"]})
    print("a line on stderr", file=sys.stderr)
    return {fd: os.path.realpath(f"/proc/self/fd/{fd}") for fd in (1, 2)}


def fail(event, context):
    raise KeyError("no such segment")


def read_secret(event, context):
    import boto3

    boto3.client("secretsmanager", region_name="us-east-1").get_secret_value(SecretId=event["arn"])


ROLE = Principal(
    "SomeFunctionRole",
    "arn:aws:iam::123456789012:role/SomeFunctionRole",
    (
        {
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:*:*:secret:mine-*",
        },
    ),
)


def pool(handler: str, log_path=None, **env: str) -> FunctionPool:
    environ = {"PATH": os.environ["PATH"], "AWS_LAMBDA_FUNCTION_NAME": handler, **env}
    return FunctionPool(handler, f"tests.unit.test_local_workers.{handler}", environ, ROLE, log_path=log_path)


@pytest.fixture
def pools():
    """Pools as the runner makes them: their workers forked from a server that preloaded the
    project (with this process's environment, POWERTOOLS_LOG_LEVEL=WARNING: tests/conftest.py)."""
    start_fork_server()  # the first pool of the process starts it, as LocalPipeline's does
    made: list[FunctionPool] = []
    yield lambda handler, log_path=None, **env: made.append(pool(handler, log_path, **env)) or made[-1]
    for p in made:
        p.close()


def test_a_worker_is_a_warm_process_with_only_its_function_environment(pools):
    other = pools("fail", ONLY_THE_OTHER_FUNCTION="secret")
    mine = pools("remember")
    first = mine({}, LambdaContext("remember", 30))
    second = mine({}, LambdaContext("remember", 30))
    assert first["pid"] != os.getpid() and second["pid"] == first["pid"]  # warm: the same sandbox
    assert (first["calls"], second["calls"]) == (1, 2)  # its module state, kept between invocations
    assert first["name"] == "remember" and first["leak"] is None  # no other function's variables
    assert 0 < first["remaining_ms"] <= 30_000
    assert mine.started == 1 and other.started == 0


def test_concurrent_invocations_get_a_worker_each(pools):
    mine = pools("remember")
    results: list[dict] = []
    threads = [
        threading.Thread(target=lambda: results.append(mine({"sleep": 0.5}, LambdaContext("remember", 30))))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r["pid"] for r in results}) == 2 and mine.started == 2


def test_an_error_keeps_its_type_and_a_timeout_ends_the_worker(pools):
    failing = pools("fail")
    with pytest.raises(FunctionError) as raised:
        failing({}, LambdaContext("fail", 30))
    assert type(raised.value).__name__ == "KeyError"  # the ASL's error name
    slow = pools("remember")
    first = slow({}, LambdaContext("remember", 30))
    with pytest.raises(FunctionError) as timed_out:
        slow({"sleep": 30}, LambdaContext("remember", 0.2))
    assert type(timed_out.value).__name__ == "Sandbox.Timedout"
    assert slow.pids() == []  # the sandbox was ended, not returned to the pool
    assert slow({}, LambdaContext("remember", 30))["pid"] != first["pid"]


def test_a_call_the_role_does_not_allow_fails_in_the_worker_with_access_denied(pools):
    reader = pools("read_secret", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    denied: list = []
    reader.on_denied = denied.extend
    other = "arn:aws:secretsmanager:us-east-1:123456789012:secret:theirs-Ab12Cd"
    with pytest.raises(
        FunctionError, match=r"AccessDeniedException.*not authorized to perform: secretsmanager:GetSecretValue"
    ):
        reader({"arn": other}, LambdaContext("read_secret", 30))
    assert [(d.principal, d.action, d.resource) for d in denied] == [
        ("SomeFunctionRole", "secretsmanager:GetSecretValue", other)
    ]


def test_a_workers_log_lines_go_to_the_log_file_never_to_the_terminal(pools, tmp_path):
    """`make demo`: the workers are forked from a server started in the demo's terminal, so their
    output went there, between the progress bars, not only to .local/demo.log. With a log file
    their stdout and stderr are that file, appended to after what is already there."""
    log = tmp_path / "demo.log"
    log.write_text("the runner's line\n", encoding="utf-8")
    speaker = pools("speak", log_path=log)
    where = speaker({"job_id": "job-42"}, LambdaContext("speak", 30))
    assert where == {1: str(log), 2: str(log)}
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "the runner's line" and "a line on stderr" in lines
    [said] = [json.loads(line) for line in lines if line.startswith("{")]
    assert (said["message"], said["job_id"], said["level"]) == ("worker says hello", "job-42", "INFO")


def test_a_workers_log_level_is_its_functions_not_the_fork_servers(pools, tmp_path):
    """The fork server imported the Powertools Logger with this process's level (WARNING); a
    worker logs at its own function's, as a cold start on Lambda reads it."""
    for level, expected in (("INFO", ["worker says hello"]), ("ERROR", []), (None, ["worker says hello"])):
        log = tmp_path / f"{level}.log"
        speaker = pools("speak", log_path=log, **({"POWERTOOLS_LOG_LEVEL": level} if level else {}))
        speaker({"job_id": "job-7"}, LambdaContext("speak", 30))
        lines = log.read_text(encoding="utf-8").splitlines()
        assert [json.loads(line)["message"] for line in lines if line.startswith("{")] == expected, level
