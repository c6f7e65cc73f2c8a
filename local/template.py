"""Read what the local runner needs from template.yaml, so local and AWS cannot drift:
the functions (logical id -> handler) and the state machine's DefinitionSubstitutions."""

from __future__ import annotations

import functools
import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"
ACCOUNT = "123456789012"


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A YAML loader that keeps CloudFormation's short tags (!Ref, !GetAtt, ...) as dicts
    (libyaml's, when PyYAML has it: the template is read by every pipeline and many tests)."""


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node):
    value: object
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{suffix}", node.start_mark)
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if name == "Fn::GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict:
    """The template as plain dicts, a new copy each call (callers may change it). Each version of
    the file (its size and modification time) is parsed once: YAML parsing was about 2 % of the
    unit tests' CPU, which read it many times."""
    stat = path.stat()
    return pickle.loads(_parsed(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int, size: int) -> bytes:
    return pickle.dumps(yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader))


def function_arn(logical_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    definition_path: Path
    substitutions: dict[str, str]


def functions(template: dict) -> dict[str, str]:
    """Logical id -> module-path handler, for every function in the template."""
    return {
        name: res["Properties"]["Handler"]
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    }


def function_timeouts(template: dict) -> dict[str, float]:
    """Logical id -> its Lambda Timeout in seconds (its own, else the Globals' default of 3)."""
    default = ((template.get("Globals") or {}).get("Function") or {}).get("Timeout", 3)
    return {
        name: float(res["Properties"].get("Timeout", default))
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    }


def state_machines(template: dict) -> list[str]:
    """The logical ids of the template's state machines."""
    return [name for name, res in template["Resources"].items() if res["Type"] == "AWS::Serverless::StateMachine"]


def pipeline_functions(template: dict) -> dict[str, str]:
    """Logical id -> handler, for the functions the state machines invoke (their
    DefinitionSubstitutions' GetAtt targets), leaving out the webhook and the deploy hooks."""
    invoked = {
        value["Fn::GetAtt"][0]
        for logical_id in state_machines(template)
        for value in template["Resources"][logical_id]["Properties"].get("DefinitionSubstitutions", {}).values()
        if isinstance(value, dict) and "Fn::GetAtt" in value
    }
    return {name: handler for name, handler in functions(template).items() if name in invoked}


def state_machine(
    template: dict, logical_id: str = "VideoPipelineStateMachine", refs: dict[str, str] | None = None
) -> StateMachineSpec:
    """A state machine's definition file and its substitutions resolved: a function's ARN, and
    `refs` (logical id -> ARN) for another resource's !Ref (the child state machine's)."""
    props = template["Resources"][logical_id]["Properties"]
    subs = {}
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        if isinstance(value, dict) and "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "Arn":
            subs[key] = function_arn(value["Fn::GetAtt"][0])
        elif isinstance(value, dict) and value.get("Ref") in (refs or {}):
            subs[key] = (refs or {})[value["Ref"]]
        elif isinstance(value, (str, int, float)):
            subs[key] = str(value)
        else:
            raise ValueError(f"the local runner cannot resolve substitution {key}: {value!r}")
    return StateMachineSpec(logical_id, ROOT / props["DefinitionUri"], subs)


def render_definition(spec: StateMachineSpec) -> str:
    text = spec.definition_path.read_text(encoding="utf-8")
    for key, value in spec.substitutions.items():
        text = text.replace(f"${{{key}}}", value)
    json.loads(text)  # still valid JSON
    return text
