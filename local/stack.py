"""template.yaml as CloudFormation would deploy it, on this machine: expanded by SAM's own
translator (aws-sam-translator, the package `sam build` and `sam deploy` use), then its
parameters, conditions and intrinsic functions resolved to the local resources.

What it gives the local runner and the tests:
- each function's environment as Lambda would set it (`environment`): the Globals' variables,
  then the function's own, with `!Ref`, `!GetAtt`, `!Sub` and `!If` resolved;
- each role's policy statements (`statements`): the inline policies, the managed policies it
  attaches (the template's own, and the AWS-managed ones in AWS_MANAGED_POLICIES), and the SAM
  policy templates, which the translator expands;
- which role each function and the state machine run as, and the EventBridge rules with their
  targets.

The local resources are named as CloudFormation would name them, in one account and region;
`physical` replaces a resource's physical id (e.g. a secret's ARN as moto made it)."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from local.template import ACCOUNT, REGION, load_template

STACK_NAME = "video-bot-local"
PARTITION = "aws"

# Parameters the template requires (no default), as a local deploy gives them. ExistingDatabaseUrl
# set chooses the template's "existing database" shape: no VPC, NAT or RDS, and the database URL
# in a secret of its own (DatabaseUrlSecret), which the embedded PostgreSQL can fill.
LOCAL_PARAMETERS = {
    "TelegramBotToken": "local-bot-token",
    "OpenAIApiKey": "local-openai-key",
    "RunwayApiSecret": "local-runway-secret",
    "AllowedUserIds": "*",
    "ExistingDatabaseUrl": "postgresql://local",
}

# The AWS-managed policies SAM attaches to every function (as AWS documents them). Any other
# AWS-managed policy is an error here: it would otherwise pass unchecked.
AWS_MANAGED_POLICIES: dict[str, list[dict]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "ec2:CreateNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            "Resource": "*",
        }
    ],
}


class _NoValue:
    """AWS::NoValue: the property or list item it stands in is left out."""


NO_VALUE = _NoValue()


def translate(template: Mapping) -> dict:
    """The template as CloudFormation receives it from `sam deploy`: the Serverless transform
    expanded by aws-sam-translator. Local paths (CodeUri, ContentUri, DefinitionUri, an
    application's Location) stand for the S3 objects `sam package` would upload."""
    from samtranslator.public.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    sam = copy.deepcopy(dict(template))
    uploaded = {
        "AWS::Serverless::Function": "CodeUri",
        "AWS::Serverless::LayerVersion": "ContentUri",
        "AWS::Serverless::StateMachine": "DefinitionUri",
    }
    for res in sam["Resources"].values():
        props = res.setdefault("Properties", {})
        if res["Type"] in uploaded and isinstance(props.get(uploaded[res["Type"]]), str):
            props[uploaded[res["Type"]]] = "s3://local-artifacts/package.zip"
        if res["Type"] == "AWS::Serverless::Application":
            props["Location"] = "https://local-artifacts.s3.amazonaws.com/application.yaml"
    function_globals = (sam.get("Globals") or {}).get("Function") or {}
    if isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = "s3://local-artifacts/package.zip"

    class _NoManagedPolicyLookup:
        def load(self) -> dict:
            return {}

    region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = REGION  # the translator asks boto3 for the region
    try:
        return transform(sam, {}, _NoManagedPolicyLookup())
    except InvalidDocumentException as exc:
        raise ValueError("; ".join(str(cause) for cause in exc.causes)) from None
    finally:
        if region is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = region


@dataclass(frozen=True)
class EventRule:
    logical_id: str
    pattern: dict
    targets: tuple[str, ...]  # the target ARNs


class LocalStack:
    """The translated template with everything resolved to this machine's resources."""

    def __init__(
        self,
        template: Mapping | None = None,
        *,
        parameters: Mapping[str, str] | None = None,
        physical: Mapping[str, str] | None = None,
    ):
        self.sam = dict(template if template is not None else load_template())
        self.cfn = translate(self.sam)
        self.resources: dict[str, dict] = self.cfn["Resources"]
        self.parameters = {
            name: str(spec["Default"]) for name, spec in self.cfn.get("Parameters", {}).items() if "Default" in spec
        }
        self.parameters.update(LOCAL_PARAMETERS)
        self.parameters.update(parameters or {})
        self.physical = dict(physical or {})
        self._conditions: dict[str, bool] = {}

    # -- names -------------------------------------------------------------------------------

    def of_type(self, type_: str) -> list[str]:
        return [name for name, res in self.resources.items() if res["Type"] == type_ and self.exists(name)]

    def exists(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    def functions(self) -> list[str]:
        return self.of_type("AWS::Lambda::Function")

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": PARTITION,
            "AWS::StackName": STACK_NAME,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK_NAME}/local",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name]
        res = self.resources.get(name)
        if res is None:
            raise KeyError(f"!Ref {name}: no such parameter or resource")
        if not self.exists(name):
            raise KeyError(f"!Ref {name}: its condition {res['Condition']} is false here")
        type_ = res["Type"]
        if type_ in ("AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Logs::LogGroup"):
            return name
        if type_ == "AWS::S3::Bucket":
            return f"{STACK_NAME}-{name}".lower()
        if type_ in _REF_IS_ARN:
            return str(_arn(type_, name, name))
        if type_ == "AWS::IAM::ManagedPolicy":
            return f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{name}"
        return name

    def get_att(self, name: str, attribute: str) -> str:
        key = f"{name}.{attribute}"
        if key in self.physical:
            return self.physical[key]
        type_ = self.resources[name]["Type"]
        if attribute == "Arn":
            if type_ in _REF_IS_ARN:
                return self.ref(name)
            arn = _arn(type_, name, self.ref(name))
            if arn is not None:
                return arn
        if type_ == "AWS::StepFunctions::StateMachine" and attribute == "Name":
            return self.ref(name).rsplit(":", 1)[-1]
        raise KeyError(f"!GetAtt {key}: not known here (give it in `physical`)")

    # -- conditions and intrinsic functions ----------------------------------------------------

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self.resolve(self.cfn["Conditions"][name]))
        return self._conditions[name]

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function evaluated; AWS::NoValue items left out."""
        if isinstance(value, list):
            resolved = [self.resolve(v) for v in value]
            return [v for v in resolved if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            fn = self._FUNCTIONS.get(key)
            if fn is not None:
                return fn(self, arg)
        items = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        return NO_VALUE if name == "AWS::NoValue" else self.ref(name)

    def _get_att(self, arg: Any) -> str:
        name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
        return self.get_att(name, self.resolve(attribute))

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def one(match: re.Match) -> str:
            expr = match.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in variables:
                return str(variables[expr])
            if "." in expr and not expr.startswith("AWS::"):
                name, attribute = expr.split(".", 1)
                return self.get_att(name, attribute)
            return str(self.ref(expr))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def _if(self, arg: list) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _join(self, arg: list) -> str:
        separator, items = arg
        return str(separator).join(str(v) for v in self.resolve(items))

    def _split(self, arg: list) -> list[str]:
        separator, text = arg
        return str(self.resolve(text)).split(separator)

    def _select(self, arg: list) -> Any:
        index, items = arg
        return self.resolve(items)[int(self.resolve(index))]

    def _equals(self, arg: list) -> bool:
        left, right = (self.resolve(v) for v in arg)
        return str(left) == str(right)

    _FUNCTIONS: dict[str, Any] = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att,
        "Fn::Sub": _sub,
        "Fn::If": _if,
        "Fn::Join": _join,
        "Fn::Split": _split,
        "Fn::Select": _select,
        "Fn::Equals": _equals,
        "Fn::Not": lambda self, arg: not self.resolve(arg[0]),
        "Fn::And": lambda self, arg: all(self.resolve(v) for v in arg),
        "Fn::Or": lambda self, arg: any(self.resolve(v) for v in arg),
        "Condition": lambda self, arg: self.condition(arg),
    }

    # -- what the runner needs -------------------------------------------------------------

    def properties(self, logical_id: str) -> dict:
        return self.resolve(self.resources[logical_id].get("Properties") or {})

    def environment(self, function: str) -> dict[str, str]:
        """The function's environment as Lambda sets it: the translated template's Variables
        (SAM has merged the Globals' under the function's own), resolved."""
        variables = ((self.properties(function).get("Environment") or {}).get("Variables")) or {}
        return {name: str(value) for name, value in variables.items()}

    def handler(self, function: str) -> str:
        return self.resources[function]["Properties"]["Handler"]

    def timeout(self, function: str) -> float:
        return float(self.resources[function]["Properties"].get("Timeout", 3))

    def role_of(self, logical_id: str) -> str:
        """The role a function (Role) or the state machine (RoleArn) runs as."""
        props = self.resources[logical_id]["Properties"]
        role = props.get("Role") or props.get("RoleArn")
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            raise ValueError(f"{logical_id} runs as a role this template does not define: {role!r}")
        return role["Fn::GetAtt"][0]

    def role_arn(self, role: str) -> str:
        return self.get_att(role, "Arn")

    def statements(self, role: str) -> list[dict]:
        """Every statement the role's policies hold: inline, the template's managed policies it
        attaches, and AWS-managed ones (AWS_MANAGED_POLICIES), resolved."""
        props = self.properties(role)
        found: list[dict] = []
        for policy in props.get("Policies", []):
            found += _statement_list(policy["PolicyDocument"])
        managed = {self.ref(name): name for name in self.of_type("AWS::IAM::ManagedPolicy")}
        for arn in props.get("ManagedPolicyArns", []):
            if arn in managed:
                found += _statement_list(self.properties(managed[arn])["PolicyDocument"])
            elif arn in AWS_MANAGED_POLICIES:
                found += copy.deepcopy(AWS_MANAGED_POLICIES[arn])
            else:
                raise KeyError(f"{role} attaches {arn}, whose statements are not known here (AWS_MANAGED_POLICIES)")
        return found

    def event_rules(self) -> list[EventRule]:
        """The rules that match events (an EventPattern); a schedule's rule (MessagesSweep's
        ScheduleExpression) is the runner's own timer."""
        rules = []
        for name in self.of_type("AWS::Events::Rule"):
            props = self.properties(name)
            if "EventPattern" not in props:
                continue
            rules.append(EventRule(name, props["EventPattern"], tuple(t["Arn"] for t in props.get("Targets", []))))
        return rules

    def invoke_permissions(self, function: str) -> list[dict]:
        """The function's resource policy: its AWS::Lambda::Permission resources, resolved."""
        arn, found = self.get_att(function, "Arn"), []
        for name in self.of_type("AWS::Lambda::Permission"):
            props = self.properties(name)
            if props["FunctionName"] in (function, arn):
                found.append(props)
        return found


# The resource types whose Ref is their ARN.
_REF_IS_ARN = ("AWS::SecretsManager::Secret", "AWS::StepFunctions::StateMachine", "AWS::SNS::Topic")


def _arn(type_: str, name: str, ref: str) -> str | None:
    """A resource's Arn attribute, as CloudFormation forms it from its name (`ref`: its Ref)."""
    service = {
        "AWS::Lambda::Function": f"lambda:{REGION}:{ACCOUNT}:function:{name}",
        "AWS::IAM::Role": f"iam::{ACCOUNT}:role/{name}",
        "AWS::S3::Bucket": f"s3:::{ref}",
        "AWS::SecretsManager::Secret": f"secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-local",
        "AWS::StepFunctions::StateMachine": f"states:{REGION}:{ACCOUNT}:stateMachine:{name}",
        "AWS::SNS::Topic": f"sns:{REGION}:{ACCOUNT}:{name}",
        "AWS::Logs::LogGroup": f"logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
        "AWS::Events::Rule": f"events:{REGION}:{ACCOUNT}:rule/{name}",
    }.get(type_)
    return None if service is None else f"arn:{PARTITION}:{service}"


def _statement_list(document: Mapping) -> list[dict]:
    statements = document.get("Statement", [])
    return list(statements) if isinstance(statements, list) else [statements]


def matches_pattern(pattern: Mapping, event: Mapping) -> bool:
    """EventBridge's matching for the patterns the template uses: each key's list of allowed
    values (exact strings, or `{"prefix": ...}`), nested objects matched recursively."""
    for key, allowed in pattern.items():
        value = event.get(key)
        if isinstance(allowed, Mapping):
            if not isinstance(value, Mapping) or not matches_pattern(allowed, value):
                return False
            continue
        if not any(
            a == value or (isinstance(a, Mapping) and isinstance(value, str) and value.startswith(a["prefix"]))
            for a in allowed
        ):
            return False
    return True
