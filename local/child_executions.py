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
  rule), which would add half a second to every segment of every Map; here the follower wakes
  when an execution ends (local/interpreter.py, with the interpreter's other per-execution costs);
- answer a task token while a child starts: moto's SendTaskSuccess and SendTaskFailure ask every
  RUNNING execution's evaluation environment, which a just-started execution's worker thread
  has not built yet (AttributeError on None, seen as "Step Functions did not answer" when a tap
  met a segment's child starting). An execution with no environment yet holds no token, so it
  is skipped: `answer_tokens_while_children_start`.
"""

from __future__ import annotations

import json
from typing import Any

from local import interpreter
from local import template as tpl

PIPELINE = "VideoPipelineStateMachine"
STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"


def answer_tokens_while_children_start() -> None:
    from moto.stepfunctions.parser import models
    from moto.stepfunctions.parser.api import ExecutionStatus, InvalidToken, TaskDoesNotExist, TaskTimedOut
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackConsumerTimeout,
        CallbackNotifyConsumerError,
        CallbackOutcomeFailure,
        CallbackOutcomeSuccess,
    )

    backend = models.StepFunctionsParserBackend
    if getattr(backend, "_skips_unstarted", False):
        return

    def notify(self: Any, executions: list, token: str, outcome: Any) -> bool:
        """moto's loop, skipping an execution whose worker has no environment yet."""
        for execution in executions:
            env = execution.exec_worker.env if execution.exec_worker is not None else None
            if env is None:
                continue
            try:
                if env.callback_pool_manager.notify(callback_id=token, outcome=outcome):
                    return True
            except CallbackNotifyConsumerError as consumer_error:
                if isinstance(consumer_error, CallbackConsumerTimeout):
                    raise TaskTimedOut("Task Timed Out") from None
                raise TaskDoesNotExist("Task does not exist") from None
        raise InvalidToken()

    def send_task_success(self: Any, task_token: str, outcome: str) -> None:
        success = CallbackOutcomeSuccess(callback_id=task_token, output=outcome)
        notify(self, self._get_executions(ExecutionStatus.RUNNING), task_token, success)

    def send_task_failure(self: Any, task_token: str, error: Any = None, cause: Any = None) -> Any:
        failure = CallbackOutcomeFailure(callback_id=task_token, error=error, cause=cause)
        notify(self, self._get_executions(), task_token, failure)
        return models.SendTaskFailureOutput()

    backend.send_task_success = send_task_success  # type: ignore[method-assign,assignment]
    backend.send_task_failure = send_task_failure  # type: ignore[method-assign]
    backend._skips_unstarted = True  # type: ignore[attr-defined]


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
    interpreter.run_cheaply()
    speak_the_sfn_integration()
    answer_tokens_while_children_start()
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
    parents_running: dict[str, bool] = {}
    for logical_id, arn in arns.items():
        if logical_id == PIPELINE:
            continue
        running = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
        for child in running:
            parent = _parent_of(sfn, child["executionArn"])
            if parent is None:
                continue
            if parent not in parents_running:
                parents_running[parent] = sfn.describe_execution(executionArn=parent)["status"] == "RUNNING"
            if not parents_running[parent]:
                sfn.stop_execution(executionArn=child["executionArn"], error="States.Aborted", cause="its parent ended")
                stopped.append(child["executionArn"])
    return stopped


# child execution ARN -> the execution that started it (an execution's input never changes)
_parents: dict[str, str | None] = {}


def _parent_of(sfn: Any, execution_arn: str) -> str | None:
    if execution_arn not in _parents:
        started = json.loads(sfn.describe_execution(executionArn=execution_arn).get("input") or "{}")
        _parents[execution_arn] = started.get(STARTED_BY)
    return _parents[execution_arn]


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
