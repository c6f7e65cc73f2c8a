"""local/stack.py: template.yaml after SAM's translation, resolved to the local resources, and
local/iam.py: IAM's evaluation of those policies (the offline rehearsal, docs/deploy.md)."""

from __future__ import annotations

import copy

import pytest

from local import iam
from local.stack import LocalStack, matches_pattern
from local.template import load_template

RDS_OUTPUTS = {
    "Database.Outputs.SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-abc123",
    "Database.Outputs.Host": "db.local",
    "Database.Outputs.Port": "5432",
    "Database.Outputs.Name": "videobot",
    "Network.Outputs.PrivateSubnetIds": "subnet-a,subnet-b",
    "Network.Outputs.LambdaSecurityGroupId": "sg-1",
}


@pytest.fixture(scope="module")
def stack() -> LocalStack:
    return LocalStack()


@pytest.fixture(scope="module")
def rds_stack() -> LocalStack:
    """The template's other shape: a VPC and an RDS instance it creates (ExistingDatabaseUrl empty)."""
    return LocalStack(parameters={"ExistingDatabaseUrl": ""}, physical=RDS_OUTPUTS)


def allowed(stack: LocalStack, who: str, action: str, resource: str) -> bool:
    return iam.evaluate(stack.statements(stack.role_of(who)), action, resource).allowed


def test_a_function_environment_is_the_globals_then_its_own_resolved(stack):
    env = stack.environment("GenerateScriptFunction")
    # Given the Globals name no provider, When the function names one, Then its own wins
    assert env["LLM_PROVIDER"] == "openai" and env["NOTIFIER_PROVIDER"] == "none"
    # !Ref to a secret is its ARN; !Ref to a parameter its value; !If on a condition resolved
    assert env["OPENAI_API_KEY_SECRET_ARN"] == stack.ref("OpenAIApiKeySecret")
    assert env["OPENAI_API_KEY_SECRET_ARN"].startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:")
    assert env["MAP_MAX_CONCURRENCY"] == "10"
    assert env["DATABASE_URL_SECRET_ARN"] == stack.ref("DatabaseUrlSecret")
    assert "DATABASE_SECRET_ARN" not in env  # AWS::NoValue leaves it out
    assert stack.environment("WebhookFunction")["STATE_MACHINE_ARN"] == stack.ref("VideoPipelineStateMachine")


def test_physical_ids_replace_the_named_ones(stack):
    moto_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:OpenAIApiKeySecret-Ab12Cd"
    there = LocalStack(stack.sam, physical={"OpenAIApiKeySecret": moto_arn})
    assert there.environment("GenerateScriptFunction")["OPENAI_API_KEY_SECRET_ARN"] == moto_arn
    assert allowed(there, "GenerateScriptFunction", "secretsmanager:GetSecretValue", moto_arn)


def test_the_rds_shape_names_the_created_database_secret(rds_stack):
    env = rds_stack.environment("MigrateDatabaseFunction")
    assert env["DATABASE_SECRET_ARN"] == RDS_OUTPUTS["Database.Outputs.SecretArn"]
    assert env["DATABASE_HOST"] == "db.local" and "DATABASE_URL_SECRET_ARN" not in env
    assert allowed(rds_stack, "MigrateDatabaseFunction", "secretsmanager:GetSecretValue", env["DATABASE_SECRET_ARN"])


@pytest.mark.parametrize("shape", ["stack", "rds_stack"])
def test_every_secret_a_function_environment_names_its_role_may_read(shape, request):
    """The first deploy's blocker (issue 20), judged on the translated template: every
    *_SECRET_ARN in a function's environment, the Globals' included, is one its role may read."""
    stack = request.getfixturevalue(shape)
    for function in stack.functions():
        for name, arn in stack.environment(function).items():
            if name.endswith("_SECRET_ARN"):
                assert allowed(stack, function, "secretsmanager:GetSecretValue", arn), (function, name)


def test_a_function_may_not_read_a_secret_it_is_not_given(stack):
    assert not allowed(stack, "MigrateDatabaseFunction", "secretsmanager:GetSecretValue", stack.ref("WebhookSecret"))
    assert not allowed(
        stack, "GenerateScriptFunction", "secretsmanager:GetSecretValue", stack.ref("RunwayApiSecretSecret")
    )


def test_managed_policies_and_sam_policy_templates_are_expanded(stack):
    bucket = stack.ref("MediaBucket")
    # MediaWritePolicy (a managed policy the template attaches) grants jobs/ only
    assert allowed(stack, "AssembleVideoFunction", "s3:PutObject", f"arn:aws:s3:::{bucket}/jobs/j1/final.mp4")
    assert not allowed(stack, "AssembleVideoFunction", "s3:PutObject", f"arn:aws:s3:::{bucket}/music/bed.mp3")
    assert not allowed(stack, "DeliverVideoFunction", "s3:PutObject", f"arn:aws:s3:::{bucket}/jobs/j1/final.mp4")
    # StepFunctionsExecutionPolicy (a SAM policy template) on the state machine's ARN
    machine = stack.ref("VideoPipelineStateMachine")
    assert allowed(stack, "WebhookFunction", "states:StartExecution", machine)
    assert not allowed(stack, "GenerateScriptFunction", "states:StartExecution", machine)


def test_each_state_machine_role_invokes_exactly_its_functions(stack):
    machines = [name for name, res in stack.resources.items() if res["Type"] == "AWS::StepFunctions::StateMachine"]
    assert set(machines) == {"VideoPipelineStateMachine", "SegmentMediaStateMachine"}
    for machine in machines:
        role = stack.role_of(machine)
        invoked = {
            v["Fn::GetAtt"][0]
            for v in stack.resources[machine]["Properties"]["DefinitionSubstitutions"].values()
            if isinstance(v, dict) and "Fn::GetAtt" in v
        }
        for function in stack.functions():
            arn = stack.get_att(function, "Arn")
            may = iam.evaluate(stack.statements(role), "lambda:InvokeFunction", arn).allowed
            assert may == (function in invoked), (machine, function)
    # the pipeline starts each segment's child execution; the child starts nothing
    child = stack.ref("SegmentMediaStateMachine")
    pipeline, segment = stack.role_of("VideoPipelineStateMachine"), stack.role_of("SegmentMediaStateMachine")
    assert iam.evaluate(stack.statements(pipeline), "states:StartExecution", child).allowed
    assert not iam.evaluate(stack.statements(segment), "states:StartExecution", child).allowed


def test_the_eventbridge_rule_targets_the_reconciler_with_a_permission(stack):
    (rule,) = stack.event_rules()
    event = {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"status": "FAILED", "stateMachineArn": stack.ref("VideoPipelineStateMachine")},
    }
    assert matches_pattern(rule.pattern, event)
    assert not matches_pattern(rule.pattern, {**event, "detail": {**event["detail"], "status": "SUCCEEDED"}})
    assert rule.targets == (stack.get_att("ReconcileExecutionFunction", "Arn"),)
    # one permission per rule that targets it: this one, and the MessagesSweep schedule's
    permissions = stack.invoke_permissions("ReconcileExecutionFunction")
    assert {p["Principal"] for p in permissions} == {"events.amazonaws.com"}
    assert stack.get_att(rule.logical_id, "Arn") in {p["SourceArn"] for p in permissions}


def test_a_grant_removed_from_a_copy_of_the_template_is_denied(stack):
    template = copy.deepcopy(stack.sam)
    policies = template["Resources"]["GenerateScriptFunction"]["Properties"]["Policies"]
    policies[:] = [p for p in policies if "AWSSecretsManagerGetSecretValuePolicy" not in p]
    assert not allowed(
        LocalStack(template), "GenerateScriptFunction", "secretsmanager:GetSecretValue", stack.ref("OpenAIApiKeySecret")
    )


def test_an_unknown_aws_managed_policy_is_an_error_not_a_pass(stack):
    template = copy.deepcopy(stack.sam)
    template["Resources"]["GenerateScriptFunction"]["Properties"]["Policies"].append("AmazonS3FullAccess")
    there = LocalStack(template)
    with pytest.raises(KeyError, match="AmazonS3FullAccess"):
        there.statements(there.role_of("GenerateScriptFunction"))


def test_load_template_is_what_the_stack_translates():
    assert set(LocalStack().sam["Resources"]) == set(load_template()["Resources"])


# -- IAM's evaluation ------------------------------------------------------------------------

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:key-Ab12Cd"


@pytest.mark.parametrize(
    ("statements", "action", "resource", "expected"),
    [
        (
            [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": ARN}],
            "secretsmanager:GetSecretValue",
            ARN,
            True,
        ),
        (
            [
                {
                    "Effect": "Allow",
                    "Action": "secretsmanager:Get*",
                    "Resource": "arn:aws:secretsmanager:*:*:secret:key-*",
                }
            ],
            "secretsmanager:GetSecretValue",
            ARN,
            True,
        ),
        (
            [{"Effect": "Allow", "Action": "SecretsManager:getsecretvalue", "Resource": ARN}],
            "secretsmanager:GetSecretValue",
            ARN,
            True,
        ),
        (
            [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": ARN.upper()}],
            "secretsmanager:GetSecretValue",
            ARN,
            False,
        ),
        (
            [
                {
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "arn:aws:secretsmanager:*:*:secret:other-*",
                }
            ],
            "secretsmanager:GetSecretValue",
            ARN,
            False,
        ),
        (
            [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"},
            ],
            "s3:DeleteObject",
            "arn:aws:s3:::b/k",
            False,
        ),
        (
            [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"},
            ],
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            True,
        ),
        (
            [{"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": "*"}],
            "s3:DeleteObject",
            "arn:aws:s3:::b/k",
            False,
        ),
        (
            [{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/private/*"}],
            "s3:GetObject",
            "arn:aws:s3:::b/private/k",
            False,
        ),
        (
            [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/?"}],
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            True,
        ),
        (
            [
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                }
            ],
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            False,
        ),
        ([], "s3:GetObject", "arn:aws:s3:::b/k", False),
    ],
)
def test_iam_evaluation(statements, action, resource, expected):
    assert iam.evaluate(statements, action, resource).allowed is expected


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        ("s3", "PutObject", {"Bucket": "b", "Key": "jobs/j/a.png"}, [("s3:PutObject", "arn:aws:s3:::b/jobs/j/a.png")]),
        ("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, [("s3:GetObject", "arn:aws:s3:::b/k")]),
        ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "jobs/"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        (
            "s3",
            "DeleteObjects",
            {"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}, {"Key": "y"}]}},
            [("s3:DeleteObject", "arn:aws:s3:::b/x"), ("s3:DeleteObject", "arn:aws:s3:::b/y")],
        ),
        (
            "lambda",
            "Invoke",
            {"FunctionName": "HandleSlowUpdateFunction"},
            [("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:HandleSlowUpdateFunction")],
        ),
        ("states", "SendTaskSuccess", {"taskToken": "t", "output": "{}"}, [("states:SendTaskSuccess", "*")]),
        ("states", "StopExecution", {"executionArn": "arn:x"}, [("states:StopExecution", "arn:x")]),
        ("polly", "SynthesizeSpeech", {"Text": "x"}, [("polly:SynthesizeSpeech", "*")]),
    ],
)
def test_a_call_is_named_as_iam_names_it(service, operation, params, expected):
    assert iam.iam_requests(service, operation, params) == expected
