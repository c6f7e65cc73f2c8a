"""local/interpreter.py: moto's interpreter, made cheap, still runs a .sync child as before, and
its follower moves on when the child ends, not at its next poll."""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest
from moto import mock_aws

from local import child_executions, interpreter

CHILD = {
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": {"made": 1}, "End": True},
    },
}


def parent(child_arn: str) -> dict:
    return {
        "StartAt": "Child",
        "States": {
            "Child": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": child_arn, "Input": {}},
                "ResultSelector": {"made.$": "$.Output.made"},
                "End": True,
            }
        },
    }


def test_a_sleep_is_cut_short_by_an_end_and_only_a_followers_sleep():
    ends = interpreter._Ends()
    ends.seen()
    threading.Timer(0.05, ends.ended).start()
    started = time.monotonic()
    ends.sleep(5)
    assert time.monotonic() - started < 2 and ends.woken == 1
    started = time.monotonic()
    ends.sleep(0.2)  # no status read since (seen() not called): moto's own sleep, the full time
    assert time.monotonic() - started >= 0.2 and ends.woken == 1


@pytest.fixture
def sfn():
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        interpreter.run_cheaply()
        child_executions.speak_the_sfn_integration()
        yield boto3.client("stepfunctions", region_name="us-east-1")


def test_a_sync_child_is_followed_to_its_output_and_its_end_wakes_the_parent(sfn):
    role = "arn:aws:iam::123456789012:role/sfn"
    child = sfn.create_state_machine(name="child", definition=json.dumps(CHILD), roleArn=role)["stateMachineArn"]
    top = sfn.create_state_machine(name="parent", definition=json.dumps(parent(child)), roleArn=role)
    woken = interpreter.ENDS.woken
    execution = sfn.start_execution(stateMachineArn=top["stateMachineArn"])["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"made": 1}
    # the parent slept between its reads of the child's status, and the child's end woke it
    # (were moto to stop telling of an end, only the SYNC_CHECK_SECONDS poll would remain)
    assert interpreter.ENDS.woken > woken
