"""Every AWS call a function makes offline, checked against its role's policies as IAM checks it.

moto does not judge IAM (by default it allows everything, and its opt-in enforcement denied a
GetSecretValue that a statement scoped to the secret's ARN allows). So the local runner records
each call through botocore's event hooks, names it as IAM names it (service:Action on a resource
ARN, `iam_requests`), and evaluates it against the caller's statements from the translated
template (`evaluate`):

- an explicit Deny that matches wins; else an Allow that matches allows; else the call is denied
  (IAM's implicit deny);
- Action and NotAction, Resource and NotResource, with IAM's wildcards (`*`, `?`); actions are
  matched without regard to case, resources with it.

Not judged here (docs/deploy.md lists them): Condition blocks (a statement with one is taken as
not matching, so it never grants), resource-based policies (the bucket's, a key's), permission
boundaries, SCPs and session policies. A denied call fails as AWS fails it: botocore raises
ClientError with AccessDeniedException (AccessDenied for S3), and the message names the role,
the action and the resource."""

from __future__ import annotations

import contextvars
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from local.template import ACCOUNT, REGION


@dataclass(frozen=True)
class Principal:
    """Who makes a call: a role (by its logical id and ARN) and its statements."""

    name: str
    arn: str
    statements: tuple[dict, ...]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "allowed by <sid>", "explicit deny by <sid>", "no statement allows it"


@dataclass(frozen=True)
class Checked:
    principal: str
    operation: str  # botocore's: secretsmanager.GetSecretValue
    action: str  # IAM's: secretsmanager:GetSecretValue
    resource: str
    decision: Decision


@lru_cache(maxsize=4096)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _any_match(globs: Iterable[str], value: str, ignore_case: bool) -> bool:
    return any(_pattern(g, ignore_case).match(value) for g in globs)


def statement_matches(statement: Mapping, action: str, resource: str) -> bool:
    if "Condition" in statement:
        return False  # conditions are not evaluated: such a statement never grants (module doc)
    if "NotAction" in statement:
        if _any_match(_listed(statement["NotAction"]), action, True):
            return False
    elif not _any_match(_listed(statement.get("Action")), action, True):
        return False
    if "NotResource" in statement:
        return not _any_match(_listed(statement["NotResource"]), resource, False)
    return _any_match(_listed(statement.get("Resource")), resource, False)


def evaluate(statements: Iterable[Mapping], action: str, resource: str) -> Decision:
    allowed_by = None
    for i, statement in enumerate(statements):
        if not statement_matches(statement, action, resource):
            continue
        sid = statement.get("Sid") or f"statement {i}"
        if statement.get("Effect") == "Deny":
            return Decision(False, f"explicit deny by {sid}")
        allowed_by = allowed_by or sid
    if allowed_by is None:
        return Decision(False, "no identity-based policy allows it")
    return Decision(True, f"allowed by {allowed_by}")


# -- naming a botocore call as IAM names it --------------------------------------------------

# Operations whose IAM action is another's (S3's multipart upload is s3:PutObject, HeadObject is
# s3:GetObject, ListObjectsV2 is s3:ListBucket, Lambda's Invoke is lambda:InvokeFunction).
ACTION_OF = {
    "s3.HeadObject": "s3:GetObject",
    "s3.ListObjectsV2": "s3:ListBucket",
    "s3.ListObjects": "s3:ListBucket",
    "s3.CreateMultipartUpload": "s3:PutObject",
    "s3.UploadPart": "s3:PutObject",
    "s3.CompleteMultipartUpload": "s3:PutObject",
    "s3.DeleteObjects": "s3:DeleteObject",
    "lambda.Invoke": "lambda:InvokeFunction",
    "lambda.InvokeAsync": "lambda:InvokeFunction",
}


def _s3_resources(operation: str, params: Mapping) -> list[str]:
    bucket = params.get("Bucket", "")
    if operation in ("ListObjectsV2", "ListObjects", "HeadBucket", "CreateBucket", "DeleteBucket"):
        return [f"arn:aws:s3:::{bucket}"]
    if operation == "DeleteObjects":
        return [f"arn:aws:s3:::{bucket}/{o['Key']}" for o in params.get("Delete", {}).get("Objects", [])]
    if "Key" in params:
        return [f"arn:aws:s3:::{bucket}/{params['Key']}"]
    return [f"arn:aws:s3:::{bucket}"]


def _function_arn(name: str) -> str:
    if name.startswith("arn:"):
        return name.split(":function:")[0] + ":function:" + name.split(":function:")[1].split(":")[0]
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def _secret_arn(secret_id: str) -> str:
    return (
        secret_id if secret_id.startswith("arn:") else f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret_id}"
    )


def iam_requests(service: str, operation: str, params: Mapping) -> list[tuple[str, str]]:
    """(action, resource ARN) pairs IAM checks for one call. An operation not named here is
    `<service>:<Operation>` on "*", which only a statement for every resource grants: a new
    call is denied until a policy grants it broadly or this table learns its resource."""
    action = ACTION_OF.get(f"{service}.{operation}", f"{service}:{operation}")
    if service == "s3":
        resources = _s3_resources(operation, params)
    elif service == "secretsmanager" and "SecretId" in params:
        resources = [_secret_arn(params["SecretId"])]
    elif service == "lambda" and "FunctionName" in params:
        resources = [_function_arn(params["FunctionName"])]
    elif service == "states" and "stateMachineArn" in params:
        resources = [params["stateMachineArn"]]
    elif service == "states" and "executionArn" in params:
        resources = [params["executionArn"]]
    else:
        resources = ["*"]
    return [(action, r) for r in resources]


# -- the check, on every botocore call ------------------------------------------------------

_caller: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("iam_caller", default=None)


def current_principal() -> Principal | None:
    """The principal whose invocation this code runs in (None: the runner or a test itself)."""
    return _caller.get()


class AccessDenied(Exception):
    """Raised for a denied call outside botocore (a Lambda invoke the state machine's role may
    not make); botocore calls raise ClientError instead."""


@dataclass
class PolicyCheck:
    """Checks the calls made while a principal is acting (`acting_as`), records each, and fails
    a denied one. `install()` hooks botocore once per process; calls made by no principal (the
    runner itself, moto's interpreter, a test's own setup) are not checked."""

    checked: list[Checked] = field(default_factory=list)
    default: Principal | None = None  # who acts when no one is acting_as (a worker: its function)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def acting_as(self, principal: Principal) -> Iterator[None]:
        token = _caller.set(principal)
        try:
            yield
        finally:
            _caller.reset(token)

    @contextmanager
    def as_the_runner(self) -> Iterator[None]:
        """The local runner's own calls inside an invocation (making its secrets): no principal
        (in a process whose `default` is a function, it still acts)."""
        token = _caller.set(None)
        try:
            yield
        finally:
            _caller.reset(token)

    def check(self, principal: Principal, operation: str, pairs: list[tuple[str, str]]) -> Checked | None:
        """Each (action, resource) of one call; the first denied is returned (and recorded)."""
        denied = None
        for action, resource in pairs:
            decision = evaluate(principal.statements, action, resource)
            entry = Checked(principal.name, operation, action, resource, decision)
            with self._lock:
                self.checked.append(entry)
            if not decision.allowed and denied is None:
                denied = entry
        return denied

    def record(self, checked: list[Checked]) -> None:
        """Calls checked elsewhere (a worker process)."""
        with self._lock:
            self.checked.extend(checked)

    def denied(self) -> list[Checked]:
        with self._lock:
            return [c for c in self.checked if not c.decision.allowed]

    def _before_parameter_build(self, params: Mapping, model: Any, **_: Any) -> None:
        principal = _caller.get() or self.default
        if principal is None:
            return
        service = model.service_model.signing_name
        operation = f"{service}.{model.name}"
        denied = self.check(principal, operation, iam_requests(service, model.name, params))
        if denied is not None:
            raise access_denied_error(principal, denied, model.name, s3=service == "s3")

    def install(self) -> PolicyCheck:
        """Hook every botocore session made from now on (and boto3's default one, made again)."""
        import boto3
        import botocore.handlers

        entry = ("before-parameter-build", self._before_parameter_build)
        botocore.handlers.BUILTIN_HANDLERS[:] = [
            h for h in botocore.handlers.BUILTIN_HANDLERS if getattr(h[1], "__name__", "") != "_before_parameter_build"
        ]
        botocore.handlers.BUILTIN_HANDLERS.append(entry)
        boto3.DEFAULT_SESSION = None
        return self

    def uninstall(self) -> None:
        import boto3
        import botocore.handlers

        botocore.handlers.BUILTIN_HANDLERS[:] = [
            h for h in botocore.handlers.BUILTIN_HANDLERS if getattr(h[1], "__self__", None) is not self
        ]
        boto3.DEFAULT_SESSION = None


def denial_message(principal: Principal, denied: Checked) -> str:
    """AWS's words for an identity-based denial."""
    return (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{principal.name}/local is not authorized to perform: "
        f"{denied.action} on resource: {denied.resource} because {denied.decision.reason}"
    )


def access_denied_error(principal: Principal, denied: Checked, operation: str, *, s3: bool = False) -> Exception:
    from botocore.exceptions import ClientError

    code, status = ("AccessDenied", 403) if s3 else ("AccessDeniedException", 400)
    return ClientError(
        {
            "Error": {"Code": code, "Message": denial_message(principal, denied)},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


def state_machine_acts_as(principals: Mapping[str, Principal]) -> None:
    """Attribute the Lambda invocations of moto's Step Functions interpreter to the role of the
    state machine whose execution runs the Task (`principals`: state machine ARN -> its role):
    each Task's invoke is then checked as AWS checks it (lambda:InvokeFunction on the function's
    ARN, with the role that state machine runs as; the pipeline and its child have their own)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    original = getattr(lambda_eval_utils, "_unattributed_integration", None)
    if original is None:
        original = lambda_eval_utils.execute_lambda_function_integration
        lambda_eval_utils._unattributed_integration = original  # type: ignore[attr-defined]

    def attributed(env: Any, *args: Any, **kwargs: Any) -> Any:
        arn = env.states.context_object.context_object_data["StateMachine"]["Id"]
        principal = principals.get(arn)
        if principal is None:
            raise AccessDenied(f"no role is known for state machine {arn}")
        token = _caller.set(principal)
        try:
            return original(env, *args, **kwargs)
        finally:
            _caller.reset(token)

    lambda_eval_utils.execute_lambda_function_integration = attributed
