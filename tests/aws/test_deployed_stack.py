"""A deployed stack, checked from outside: what a first deploy most often gets wrong. The
webhook refuses calls without Telegram's secret and reaches Telegram through the NAT; every
function may read each secret its environment names, and the state machine may invoke each
function it names; the functions start (their secrets, the VPC, PostgreSQL); the layer's ffmpeg
is built for the functions' architecture; the alarms can reach the operator; the bucket is private.

Nothing here fails an execution or raises a function error, so a healthy stack's alarms stay
quiet while these run. Run with `AWS_SAM_STACK_NAME=ai-video-bot-dev make test-aws`; the
credentials need read access to the stack plus lambda:InvokeFunction (ReconcileExecutionFunction),
iam:SimulatePrincipalPolicy, logs:FilterLogEvents and secretsmanager:GetSecretValue on the
webhook's secret."""

from __future__ import annotations

import io
import json
import os
import time
import uuid
import zipfile

import pytest
import requests

STACK = os.environ.get("AWS_SAM_STACK_NAME")
# ELF e_machine of each Lambda architecture
ELF_MACHINE = {"x86_64": 62, "arm64": 183}


@pytest.fixture(scope="session")
def resources(aws_session) -> dict[str, dict]:
    """The stack's resources by logical id."""
    pages = aws_session.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=STACK)
    return {r["LogicalResourceId"]: r for page in pages for r in page["StackResourceSummaries"]}


@pytest.fixture(scope="session")
def functions(aws_session, resources) -> dict[str, dict]:
    """Each function's configuration, by logical id."""
    lam = aws_session.client("lambda")
    return {
        name: lam.get_function_configuration(FunctionName=r["PhysicalResourceId"])
        for name, r in resources.items()
        if r["ResourceType"] == "AWS::Lambda::Function"
    }


def _webhook_secret(outputs, aws_session) -> str:
    return aws_session.client("secretsmanager").get_secret_value(SecretId=outputs["WebhookSecretArn"])["SecretString"]


def test_outputs_are_there(outputs):
    assert outputs["WebhookUrl"].startswith("https://") and outputs["WebhookUrl"].endswith("/telegram/webhook")
    assert ":stateMachine:" in outputs["StateMachineArn"]
    assert outputs["MediaBucketName"]
    assert outputs["DashboardUrl"].startswith("https://") and "#dashboards:name=" in outputs["DashboardUrl"]


def test_the_dashboard_exists(outputs, aws_session):
    name = outputs["DashboardUrl"].split("#dashboards:name=", 1)[1]
    body = json.loads(aws_session.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    assert len(body["widgets"]) >= 8


def test_webhook_refuses_a_missing_or_wrong_secret_token(outputs):
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "/start"},
    }
    missing = requests.post(outputs["WebhookUrl"], json=update, timeout=30)
    assert missing.status_code == 401
    wrong = requests.post(
        outputs["WebhookUrl"], json=update, timeout=30, headers={"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
    )
    assert wrong.status_code == 403


def test_webhook_accepts_the_real_secret_and_ignores_a_duplicate(outputs, aws_session):
    update = {
        "update_id": int(time.time()),
        "edited_message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "ignored"},
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": _webhook_secret(outputs, aws_session)}
    first = requests.post(outputs["WebhookUrl"], json=update, headers=headers, timeout=30)
    assert first.status_code == 200, first.text
    again = requests.post(outputs["WebhookUrl"], json=update, headers=headers, timeout=30)
    assert again.status_code == 200 and again.json().get("duplicate") is True


def test_the_functions_reach_telegram_through_the_nat(outputs, aws_session, functions):
    """A /help from a chat that does not exist: the webhook answers it in Telegram, which
    refuses ("chat not found"). Telegram's answer coming back (200, and the refusal in the
    webhook's log) proves the way out; with no route the call times out and the webhook answers
    500. Every function shares the webhook's subnets, whose default route is the NAT gateway."""
    update_id = int(time.time() * 1000) % 2**31
    chat = 10**12 + update_id  # no such chat
    update = {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "aws-test"},
            "text": "/help",
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": _webhook_secret(outputs, aws_session)}
    answer = requests.post(outputs["WebhookUrl"], json=update, headers=headers, timeout=35)
    assert answer.status_code == 200, f"{answer.status_code}: Telegram was not reached ({answer.text})"
    logs = aws_session.client("logs")
    webhook = functions["WebhookFunction"]
    group = webhook.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{webhook['FunctionName']}"
    deadline, seen = time.time() + 90, []
    while not seen and time.time() < deadline:
        time.sleep(5)
        events = logs.filter_log_events(
            logGroupName=group, startTime=int((time.time() - 600) * 1000), filterPattern=f'"{update_id}"'
        )["events"]
        seen = [e["message"] for e in events if "telegram refused a call" in e["message"]]
    assert seen and "chat not found" in seen[0].lower(), "Telegram's refusal is not in the webhook's log"
    # the other functions share the way out
    ec2 = aws_session.client("ec2")
    for name, config in functions.items():
        subnets = config.get("VpcConfig", {}).get("SubnetIds") or []
        if not subnets:  # ExistingDatabaseUrl: outside a VPC, on Lambda's own internet access
            continue
        tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": subnets}])
        for table in tables["RouteTables"]:
            default = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
            assert default and default[0].get("NatGatewayId") and default[0]["State"] == "active", name


def test_each_function_may_read_every_secret_its_environment_names(aws_session, functions):
    # The first deploy's blocker: a function told of a secret its role may not read fails at
    # start-up (videobot.secrets), and the migrations' custom resource rolled the stack back.
    iam = aws_session.client("iam")
    checked = 0
    for name, config in functions.items():
        named = [v for k, v in config.get("Environment", {}).get("Variables", {}).items() if k.endswith("_SECRET_ARN")]
        if not named:
            continue
        decisions = iam.simulate_principal_policy(
            PolicySourceArn=config["Role"], ActionNames=["secretsmanager:GetSecretValue"], ResourceArns=named
        )["EvaluationResults"]
        assert {d["EvalResourceName"]: d["EvalDecision"] for d in decisions} == dict.fromkeys(named, "allowed"), name
        checked += 1
    assert checked == len(functions)  # every function reads the database secret at least


def test_the_state_machines_may_invoke_each_function_they_name(outputs, aws_session, functions):
    sfn, iam = aws_session.client("stepfunctions"), aws_session.client("iam")
    named_by = {}
    for output in ("StateMachineArn", "SegmentMediaStateMachineArn"):
        machine = sfn.describe_state_machine(stateMachineArn=outputs[output])
        assert machine["type"] == "STANDARD"
        assert machine["loggingConfiguration"]["level"] in ("ERROR", "ALL")
        assert "${" not in machine["definition"]  # every substitution was made
        named = [c["FunctionArn"] for c in functions.values() if c["FunctionArn"] in machine["definition"]]
        decisions = iam.simulate_principal_policy(
            PolicySourceArn=machine["roleArn"], ActionNames=["lambda:InvokeFunction"], ResourceArns=named
        )["EvaluationResults"]
        assert {d["EvalDecision"] for d in decisions} == {"allowed"}
        named_by[output] = named
    # the pipeline names 13, each segment's child execution Submit*/Check*: 17 together
    assert (len(named_by["StateMachineArn"]), len(named_by["SegmentMediaStateMachineArn"])) == (13, 4)


def test_the_pipeline_may_run_its_child_executions(outputs, aws_session):
    # states:startExecution.sync:2: start the child, follow and stop its executions, and set up
    # the managed EventBridge rule that follows them
    role = aws_session.client("stepfunctions").describe_state_machine(stateMachineArn=outputs["StateMachineArn"])[
        "roleArn"
    ]
    child = outputs["SegmentMediaStateMachineArn"]
    execution = child.replace(":stateMachine:", ":execution:") + ":awstest"
    region, account = child.split(":")[3:5]
    rule = f"arn:aws:events:{region}:{account}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
    iam = aws_session.client("iam")
    for actions, resource in (
        (["states:StartExecution"], child),
        (["states:DescribeExecution", "states:StopExecution"], execution),
        (["events:PutTargets", "events:PutRule", "events:DescribeRule"], rule),
    ):
        decisions = iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=actions, ResourceArns=[resource])
        assert {d["EvalDecision"] for d in decisions["EvaluationResults"]} == {"allowed"}, actions


def test_a_function_starts_with_its_secrets_and_reaches_postgresql(aws_session, functions):
    """ReconcileExecutionFunction asked about an execution that is no job: it starts (its
    settings, the secrets it is given, the check that each provider has its key), connects to
    PostgreSQL through the VPC, finds no job and answers, with no error (so no alarm)."""
    answer = aws_session.client("lambda").invoke(
        FunctionName=functions["ReconcileExecutionFunction"]["FunctionName"],
        Payload=json.dumps({"detail": {"name": f"awstest-{uuid.uuid4().hex[:12]}", "status": "FAILED"}}),
    )
    payload = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    assert payload == {"reconciled": False, "reason": "not a job's ended execution"}


def test_the_layers_ffmpeg_is_built_for_assemble_videos_architecture(aws_session, functions):
    config = functions["AssembleVideoFunction"]
    (architecture,) = config["Architectures"]
    (layer,) = config["Layers"]
    version = aws_session.client("lambda").get_layer_version_by_arn(Arn=layer["Arn"])
    assert architecture in version.get("CompatibleArchitectures", [architecture])
    archive = zipfile.ZipFile(io.BytesIO(requests.get(version["Content"]["Location"], timeout=120).content))
    elf = archive.read("bin/ffmpeg")[:20]
    assert elf[:4] == b"\x7fELF"
    assert int.from_bytes(elf[18:20], "little") == ELF_MACHINE[architecture], "ffmpeg would not run here"
    assert archive.getinfo("bin/ffmpeg").external_attr >> 16 & 0o111  # executable


def test_the_alarms_can_reach_the_operator(outputs, aws_session, resources):
    sns = aws_session.client("sns")
    attributes = sns.get_topic_attributes(TopicArn=outputs["AlarmTopicArn"])["Attributes"]
    # CloudWatch cannot publish to a topic under the AWS-managed alias/aws/sns
    assert "aws/sns" not in attributes.get("KmsMasterKeyId", "")
    statements = json.loads(attributes["Policy"])["Statement"]
    assert any(
        s["Effect"] == "Allow"
        and s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"
        and "sns:Publish" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        for s in statements
    )
    names = [r["PhysicalResourceId"] for r in resources.values() if r["ResourceType"] == "AWS::CloudWatch::Alarm"]
    alarms = aws_session.client("cloudwatch").describe_alarms(AlarmNames=names[:100])["MetricAlarms"]
    assert len(alarms) == len(names) >= 20
    assert all(a["ActionsEnabled"] and a["AlarmActions"] == [outputs["AlarmTopicArn"]] for a in alarms)


def test_media_bucket_is_private_encrypted_and_expiring(outputs, aws_session):
    s3 = aws_session.client("s3")
    bucket = outputs["MediaBucketName"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert any(r.get("Expiration", {}).get("Days") for r in lifecycle)
    anonymous = requests.get(f"https://{bucket}.s3.amazonaws.com/", timeout=30)
    assert anonymous.status_code == 403
