"""Write the state machines' media branches and Retry blocks from one description: the pipeline's
vocabulary (functions/videobot/pipeline.py, MEDIA_KINDS) and the named Retry policies
(statemachine/retry_policies.json).

- statemachine/segment_media.asl.json, whole: one segment's vendor task (Submit, then Check
  after each Wait, until it is ready, refused, or waits for the reference image), run as a
  child execution (`states:startExecution.sync:2`), so its polls count in its own history.
- statemachine/video_pipeline.asl.json: for each kind of media, its Map of child executions,
  the refused segments asked about in a Map of their own (a pause holds no slot of the vendor
  Map), its approval gate, the decision and the redo. The rest of the file (the script, the
  voice-over, the assembly, the outcomes) is written by hand; every Task's Retry is the policy
  its kind of Task uses (POLICY_OF).

    python -m infra.asl            # rewrite both files
    python -m infra.asl --check    # exit 1 if a committed file differs from the generated one
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from infra.format_asl import format_definition
from videobot.pipeline import MEDIA_KINDS, MediaKind

ROOT = Path(__file__).resolve().parent.parent
PIPELINE = ROOT / "statemachine" / "video_pipeline.asl.json"
SEGMENT_MEDIA = ROOT / "statemachine" / "segment_media.asl.json"
RETRY_POLICIES = ROOT / "statemachine" / "retry_policies.json"

LAMBDA = "arn:aws:states:::lambda:invoke"
GATE = "arn:aws:states:::lambda:invoke.waitForTaskToken"
CHILD = "arn:aws:states:::states:startExecution.sync:2"
# The Retry policy of each kind of Task, by its Resource.
POLICY_OF = {LAMBDA: "Stage", GATE: "ApprovalGate", CHILD: "ChildExecution"}
SEGMENT_MEDIA_ARN = "${SegmentMediaStateMachineArn}"
# What a vendor task's Lambda answers (stages/vendor_tasks.py): state, attempt, wait_seconds.
POLL = {"state.$": "$.Payload.state", "attempt.$": "$.Payload.attempt", "wait_seconds.$": "$.Payload.wait_seconds"}


def policies() -> dict[str, list]:
    return json.loads(RETRY_POLICIES.read_text(encoding="utf-8"))["Policies"]


def _function(state: str) -> str:
    return f"${{{state}FunctionArn}}"


def _task(resource: str, function: str, payload: dict, comment: str, **rest) -> dict:
    """A Lambda Task: its Type, Comment, Resource and Parameters first, as the hand-written ones."""
    parameters = {"FunctionName": function, "Payload": payload}
    return {"Type": "Task", "Comment": comment, "Resource": resource, "Parameters": parameters, **rest}


# ---- the child: one segment's vendor task ------------------------------------------------------


def _segment_task(kind: MediaKind, retry: dict) -> dict:
    s = kind.states
    task_payload = {"job_id.$": "$.job_id", "segment_index.$": "$.segment_index", "settings.$": "$.settings"}
    ends = [
        {"Variable": "$.poll.state", "StringEquals": "done", "Next": s.ready},
        {"Variable": "$.poll.state", "StringEquals": "refused", "Next": s.refused},
    ]
    if s.blocked:
        ends.append({"Variable": "$.poll.state", "StringEquals": "blocked", "Next": s.blocked})
    states = {
        s.submit: _task(
            LAMBDA,
            _function(s.submit),
            task_payload,
            f"Start the segment's {kind.noun} task; a retry reuses the stored task id.",
            ResultSelector=POLL,
            ResultPath="$.poll",
            Retry=retry[LAMBDA],
            Next=s.is_ready,
        ),
        s.is_ready: {"Type": "Choice", "Choices": ends, "Default": s.wait},
        s.wait: {
            "Type": "Wait",
            "Comment": (
                "As long as the last check said: the vendor's usual time after a submission, then the poll interval."
            ),
            "SecondsPath": "$.poll.wait_seconds",
            "Next": s.check,
        },
        s.check: _task(
            LAMBDA,
            _function(s.check),
            {**task_payload, "attempt.$": "$.poll.attempt"},
            f"Poll the {kind.noun} task once (MAX_POLL_ATTEMPTS in all); store it when it is ready.",
            ResultSelector=POLL,
            ResultPath="$.poll",
            Retry=retry[LAMBDA],
            Next=s.is_ready,
        ),
        s.ready: {"Type": "Succeed", "Comment": f"The segment's {kind.noun} is stored."},
        s.refused: {
            "Type": "Succeed",
            "Comment": f"The vendor's moderation refused the {kind.noun}: the parent asks the user, this slot is free.",
        },
    }
    if s.blocked:
        states[s.blocked] = {
            "Type": "Succeed",
            "Comment": f"The reference {kind.noun} (segment 0) was refused: made once the user has answered for it.",
        }
    return states


def segment_media(retry: dict) -> dict:
    """The child state machine: which kind, then that kind's vendor task."""
    return {
        "Comment": (
            "One segment's image or clip from the vendor, started by the video pipeline's Maps "
            "(states:startExecution.sync:2) so each segment's polls count in this execution's history, "
            "not the parent's. Written by infra/asl.py from videobot.pipeline.MEDIA_KINDS: do not edit."
        ),
        "StartAt": "WhichMedia",
        "States": {
            "WhichMedia": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.kind", "StringEquals": k.noun, "Next": k.states.submit} for k in MEDIA_KINDS
                ],
            },
            **{name: state for kind in MEDIA_KINDS for name, state in _segment_task(kind, retry).items()},
        },
    }


# ---- the parent: each kind's Map, its refusals, its gate ------------------------------------------


def _make(kind: MediaKind, retry: dict, name: str, comment: str, then: dict) -> dict:
    """A child execution making one segment's media, its outcome in $.made; a child that failed
    fails the iteration with the child's own error (ContentRefused, VendorFailed, ...), which
    the pipeline's Catch and RecordFailure read, not Step Functions' States.TaskFailed."""
    why, failed = failure_states(name)
    return {
        name: {
            "Type": "Task",
            "Comment": comment,
            "Resource": CHILD,
            "Parameters": {
                "StateMachineArn": SEGMENT_MEDIA_ARN,
                "Name.$": f"States.Format('{kind.noun}-{{}}-{{}}', $.segment_index, States.UUID())",
                "Input": {
                    "job_id.$": "$.job_id",
                    "segment_index.$": "$.segment_index",
                    "kind": kind.noun,
                    "settings.$": "$.settings",
                    "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
                },
            },
            "ResultSelector": {"segment_index.$": "$.Output.segment_index", "state.$": "$.Output.poll.state"},
            "ResultPath": "$.made",
            "Retry": retry[CHILD],
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.failure", "Next": why}],
            **then,
        },
        why: {
            "Type": "Pass",
            "Comment": "The child's DescribeExecution, whose Error and Cause are the segment's.",
            "Parameters": {"child.$": "States.StringToJson($.failure.Cause)"},
            "Next": failed,
        },
        failed: {"Type": "Fail", "ErrorPath": "$.child.Error", "CausePath": "$.child.Cause"},
    }


def failure_states(name: str) -> tuple[str, str]:
    """The two states that re-raise a child execution's failure (see _make)."""
    return f"Why{name}Failed", f"{name}Failed"


def media_states(kind: MediaKind, retry: dict, approved: str) -> dict:
    """One kind's states in the parent, from its Map to its decision; `approved` follows."""
    s, noun, plural = kind.states, kind.noun, kind.gate.value
    item = {"job_id.$": "$.job_id", "segment_index.$": "$$.Map.Item.Value", "settings.$": "$.settings"}
    return {
        s.map: {
            "Type": "Map",
            "Comment": (
                f"Each segment's {noun} in a child execution, MAX_CONCURRENCY at once. A refused one ends its "
                "iteration (its slot goes to the next segment); the user is asked once the others are made."
            ),
            "ItemsPath": "$.segments.indexes",
            "MaxConcurrencyPath": "$.settings.max_concurrency",
            "ItemSelector": item,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": s.make,
                "States": _make(
                    kind,
                    retry,
                    s.make,
                    f"One segment's {noun}: statemachine/segment_media.asl.json.",
                    {"OutputPath": "$.made", "End": True},
                ),
            },
            "ResultSelector": {
                "segments.$": "$",
                "refused.$": "States.ArrayContains($[*].state, 'refused')",
                **({"blocked.$": "States.ArrayContains($[*].state, 'blocked')"} if s.blocked else {}),
            },
            "ResultPath": f"$.{plural}",
            "Next": s.are_ready,
        },
        s.are_ready: {
            "Type": "Choice",
            "Comment": f"Refused {plural}: ask the user."
            + (" Ones that waited for the reference: make them now it exists." if s.blocked else ""),
            "Choices": [
                {"Variable": f"$.{plural}.refused", "BooleanEquals": True, "Next": s.ask_refused},
                *([{"Variable": f"$.{plural}.blocked", "BooleanEquals": True, "Next": s.map}] if s.blocked else []),
            ],
            "Default": s.await_approval,
        },
        s.ask_refused: {
            "Type": "Map",
            "Comment": (
                f"Each refused {noun} waits for its own answer, all at once, and is made again; the vendor Map "
                "has ended, so no pause holds one of its slots."
            ),
            "ItemsPath": f"$.{plural}.segments",
            "ItemSelector": {
                "job_id.$": "$.job_id",
                "segment_index.$": "$$.Map.Item.Value.segment_index",
                "settings.$": "$.settings",
                "made.$": "$$.Map.Item.Value",
            },
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": s.is_refused,
                "States": {
                    s.is_refused: {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.made.state", "StringEquals": "refused", "Next": s.await_refused}],
                        "Default": s.settled,
                    },
                    s.await_refused: _task(
                        GATE,
                        "${RequestApprovalFunctionArn}",
                        {
                            "job_id.$": "$.job_id",
                            "stage": kind.refusal.value,
                            "segment_index.$": "$.segment_index",
                            "task_token.$": "$$.Task.Token",
                        },
                        f"The vendor's moderation refused this segment's {noun}: wait for a new prompt, a "
                        "retry or a cancel (at most MAX_GATE_REVISIONS times, then the job fails).",
                        TimeoutSecondsPath="$.settings.approval_timeout_seconds",
                        ResultPath="$.gate",
                        Retry=retry[GATE],
                        Next=s.resolve_refused,
                    ),
                    s.resolve_refused: _task(
                        LAMBDA,
                        "${ReviseStageFunctionArn}",
                        {"job_id.$": "$.job_id", "stage": kind.refusal.value, "segment_index.$": "$.segment_index"},
                        "Take the new prompt (or none, to retry) and clear the refused task.",
                        ResultPath=None,
                        Retry=retry[LAMBDA],
                        Next=s.remake,
                    ),
                    **_make(
                        kind,
                        retry,
                        s.remake,
                        f"The {noun} made again: exactly one new vendor task.",
                        {"Next": s.is_refused},
                    ),
                    s.settled: {"Type": "Succeed"},
                },
            },
            "ResultPath": None,
            "Next": s.waited or s.await_approval,
        },
        **_waited(kind),
        s.await_approval: _task(
            GATE,
            "${RequestApprovalFunctionArn}",
            {"job_id.$": "$.job_id", "stage": kind.gate.value, "task_token.$": "$$.Task.Token"},
            f"Waits for the user to approve the {plural}, reject them or name ones to make again.",
            TimeoutSecondsPath="$.settings.approval_timeout_seconds",
            ResultPath="$.gate",
            Retry=retry[GATE],
            Next=s.decision,
        ),
        s.decision: {
            "Type": "Choice",
            "Comment": f"Approved: on to {approved}. Feedback: make the named {plural} again.",
            "Choices": [{"Variable": "$.gate.revise", "IsPresent": True, "Next": s.redo}],
            "Default": approved,
        },
        s.redo: _task(
            LAMBDA,
            "${ReviseStageFunctionArn}",
            {"job_id.$": "$.job_id", "stage": kind.gate.value},
            f"Clear the {plural} the user named; the loop back into {s.map} makes exactly those again.",
            ResultPath=None,
            Retry=retry[LAMBDA],
            Next=s.map,
        ),
    }


def _waited(kind: MediaKind) -> dict:
    """For a kind made from another segment's media: the Map again if some waited for it."""
    s, plural = kind.states, kind.gate.value
    if not s.waited:
        return {}
    return {
        s.waited: {
            "Type": "Choice",
            "Comment": f"{plural.capitalize()} that waited for the reference are made now that it exists.",
            "Choices": [{"Variable": f"$.{plural}.blocked", "BooleanEquals": True, "Next": s.map}],
            "Default": s.await_approval,
        }
    }


def _with_retries(states: dict, retry: dict) -> dict:
    """Every Task with its policy's Retry, inside Maps and Parallels too."""
    out = {}
    for name, state in states.items():
        state = dict(state)
        if state["Type"] == "Task":
            state["Retry"] = retry[state["Resource"]]
        for branch in state.get("Branches", []):
            branch["States"] = _with_retries(branch["States"], retry)
        if "ItemProcessor" in state:
            state["ItemProcessor"]["States"] = _with_retries(state["ItemProcessor"]["States"], retry)
        out[name] = state
    return out


def _media_branch(parent: dict) -> dict:
    """The Parallel branch that holds the media states (their decisions are in it)."""
    for state in parent["States"].values():
        for branch in state.get("Branches", []):
            if MEDIA_KINDS[0].states.decision in branch["States"]:
                return branch
    raise ValueError(f"no Parallel branch holds {MEDIA_KINDS[0].states.decision}")


def video_pipeline(parent: dict, retry: dict) -> dict:
    """The committed pipeline with each kind's states written from MEDIA_KINDS, in place: after
    the hand-written state whose Next is the kind's Map. What follows a kind's approval is its
    committed decision's Default."""
    parent = json.loads(json.dumps(parent))
    branch = _media_branch(parent)
    written = {
        kind.states.map: media_states(kind, retry, branch["States"][kind.states.decision]["Default"])
        for kind in MEDIA_KINDS
    }
    replaced = {name for states in written.values() for name in states}
    states = {}
    for name, state in branch["States"].items():
        if name not in replaced:
            states[name] = state
            states |= written.get(state.get("Next"), {})
    branch["States"] = states
    parent["States"] = _with_retries(parent["States"], retry)
    return parent


def generated() -> dict[Path, str]:
    retry = {resource: policies()[name] for resource, name in POLICY_OF.items()}
    parent = json.loads(PIPELINE.read_text(encoding="utf-8"))
    return {
        PIPELINE: format_definition(video_pipeline(parent, retry)),
        SEGMENT_MEDIA: format_definition(segment_media(retry)),
    }


def main(argv: list[str]) -> int:
    stale = []
    for path, text in generated().items():
        if (path.read_text(encoding="utf-8") if path.exists() else None) != text:
            stale.append(path.relative_to(ROOT))
            if "--check" not in argv:
                path.write_text(text, encoding="utf-8")
    if stale and "--check" in argv:
        names = ", ".join(map(str, stale))
        print(f"not as infra/asl.py writes them (run `python -m infra.asl`): {names}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
