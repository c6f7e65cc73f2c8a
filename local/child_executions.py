"""The pipeline's child executions on moto, as AWS runs them.

Each segment's image or clip is a child execution of SegmentMediaStateMachine, started by the
pipeline's Maps with `states:startExecution.sync:2`. moto's interpreter runs that integration
(it starts the child and follows it with DescribeExecution), so what is left to the runner is:

- create both state machines from template.yaml, the child first, its ARN substituted into the
  pipeline's definition as CloudFormation's !Ref does;
- stop the children of an execution that ended, as Step Functions does for a .sync child of a
  stopped parent (moto leaves them running): `stop_orphaned_children`, from the runner's
  execution watcher;
- call StartExecution and read DescribeExecution with the integration's own field names:
  moto 5.2.5's port leaves out the step that turns the ASL's `StateMachineArn`, `Input`, `Name`
  into botocore's `stateMachineArn`, ... (botocore then fails with KeyError 'StateMachineArn'),
  and the one that gives the answer AWS's names back (`ExecutionArn`, `Output`, `Status`):
  `speak_the_sfn_integration`;
- follow a child at once: moto checks a .sync child every 0.5 s (AWS is told by an EventBridge
  rule), which would add half a second to every segment of every Map; 0.05 s here.
"""

from __future__ import annotations

import json
from typing import Any

from local import template as tpl

PIPELINE = "VideoPipelineStateMachine"
STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
SYNC_CHECK_SECONDS = 0.05


def follow_children_promptly() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as callback,
    )

    callback._DELAY_SECONDS_SYNC_CONDITION_CHECK = SYNC_CHECK_SECONDS  # type: ignore[misc]


def speak_the_sfn_integration() -> None:
    """The optimized Step Functions integration's names, as AWS has them (see the module's
    docstring): the request's keys as botocore's, the answer's top-level keys as the ASL reads
    them ($.Output, $.ExecutionArn)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    if getattr(StateTaskServiceSfn, "_names_as_aws", False):
        return
    to_botocore = StateTaskServiceSfn._normalise_parameters

    def parameters(self, parameters: dict, boto_service_name=None, service_action_name=None) -> None:
        to_botocore(self, parameters, boto_service_name, service_action_name)
        for key in list(parameters):
            parameters[key[:1].lower() + key[1:]] = parameters.pop(key)

    def response(self, response, boto_service_name=None, service_action_name=None) -> None:
        if isinstance(response, dict):
            for key in list(response):
                response[key[:1].upper() + key[1:]] = response.pop(key)

    StateTaskServiceSfn._normalise_parameters = parameters  # type: ignore[method-assign]
    StateTaskServiceSfn._normalise_response = response  # type: ignore[method-assign]
    StateTaskServiceSfn._names_as_aws = True  # type: ignore[attr-defined]


def create_state_machines(sfn: Any, template: dict) -> dict[str, str]:
    """Create every state machine of the template (the pipeline last: it names the others), each
    named by its logical id without "StateMachine". Returns logical id -> ARN."""
    follow_children_promptly()
    speak_the_sfn_integration()
    arns: dict[str, str] = {}
    for logical_id in sorted(tpl.state_machines(template), key=lambda name: name == PIPELINE):
        spec = tpl.state_machine(template, logical_id, refs=arns)
        arns[logical_id] = sfn.create_state_machine(
            name=logical_id.removesuffix("StateMachine"),
            definition=tpl.render_definition(spec),
            type="STANDARD",
            roleArn=f"arn:aws:iam::{tpl.ACCOUNT}:role/{logical_id}",
        )["stateMachineArn"]
    return arns


def stop_orphaned_children(sfn: Any, arns: dict[str, str]) -> list[str]:
    """Stop each running child execution whose parent execution has ended (Step Functions stops
    a .sync child when its parent stops). Returns the children stopped."""
    stopped = []
    for logical_id, arn in arns.items():
        if logical_id == PIPELINE:
            continue
        running = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
        for child in running:
            parent = _parent_of(sfn, child["executionArn"])
            if parent and sfn.describe_execution(executionArn=parent)["status"] != "RUNNING":
                sfn.stop_execution(executionArn=child["executionArn"], error="States.Aborted", cause="its parent ended")
                stopped.append(child["executionArn"])
    return stopped


def _parent_of(sfn: Any, execution_arn: str) -> str | None:
    started = json.loads(sfn.describe_execution(executionArn=execution_arn).get("input") or "{}")
    return started.get(STARTED_BY)


def children_of(sfn: Any, arns: dict[str, str], execution_arn: str) -> list[str]:
    """The child executions an execution started, oldest first."""
    found = []
    for logical_id, arn in arns.items():
        if logical_id == PIPELINE:
            continue
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
            found += [ex for ex in page["executions"] if _parent_of(sfn, ex["executionArn"]) == execution_arn]
    return [ex["executionArn"] for ex in sorted(found, key=lambda ex: ex["startDate"])]


def history(sfn: Any, execution_arn: str) -> list[dict]:
    """One execution's events, every page."""
    events: list[dict] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events += page["events"]
    return events
