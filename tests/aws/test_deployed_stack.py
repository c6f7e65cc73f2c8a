"""A deployed stack, checked from outside: the webhook refuses calls without Telegram's
secret, the workflow is wired to its functions and the database, the bucket is private.
Run with `AWS_SAM_STACK_NAME=ai-video-bot-dev make test-aws`."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests

from videobot.config import Settings
from videobot.pipeline import ExecutionInput


def test_outputs_are_there(outputs):
    assert outputs["WebhookUrl"].startswith("https://") and outputs["WebhookUrl"].endswith("/telegram/webhook")
    assert ":stateMachine:" in outputs["StateMachineArn"]
    assert outputs["MediaBucketName"]


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
    secret = aws_session.client("secretsmanager").get_secret_value(SecretId=outputs["WebhookSecretArn"])["SecretString"]
    update = {
        "update_id": int(time.time()),
        "edited_message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "ignored"},
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    first = requests.post(outputs["WebhookUrl"], json=update, headers=headers, timeout=30)
    assert first.status_code == 200, first.text
    again = requests.post(outputs["WebhookUrl"], json=update, headers=headers, timeout=30)
    assert again.status_code == 200 and again.json().get("duplicate") is True


def test_state_machine_is_standard_traced_and_logged(outputs, aws_session):
    machine = aws_session.client("stepfunctions").describe_state_machine(stateMachineArn=outputs["StateMachineArn"])
    assert machine["type"] == "STANDARD"
    assert machine["tracingConfiguration"]["enabled"] is True
    assert machine["loggingConfiguration"]["level"] in ("ERROR", "ALL")
    assert "${" not in machine["definition"]  # every substitution was made


def test_an_execution_reaches_the_functions_and_the_database(outputs, aws_session):
    """A job id with no row: GenerateScript runs (imports, secrets, VPC, PostgreSQL, schema)
    and raises JobNotFound, which the workflow records through RecordFailure. Nothing is
    left behind but the execution's history."""
    sfn = aws_session.client("stepfunctions")
    job_id = f"awstest-{uuid.uuid4().hex[:12]}"
    arn = sfn.start_execution(
        stateMachineArn=outputs["StateMachineArn"],
        name=job_id,
        input=json.dumps(
            ExecutionInput(
                job_id=job_id,
                settings=Settings().execution(
                    approval_timeout_seconds=60, poll_interval_seconds=1, max_poll_attempts=1, max_concurrency=1
                ),
            ).payload()
        ),
    )["executionArn"]
    deadline = time.time() + 240
    while True:
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status != "RUNNING":
            break
        if time.time() > deadline:
            sfn.stop_execution(executionArn=arn, error="TestTimeout")
            pytest.fail("the execution did not finish in 4 minutes")
        time.sleep(3)
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    failures = [e["lambdaFunctionFailedEventDetails"] for e in events if e["type"] == "LambdaFunctionFailed"]
    failures += [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert any(f.get("error") == "JobNotFound" for f in failures), failures
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"] == "TaskStateEntered"]
    assert entered[:2] == ["GenerateScript", "RecordFailure"]


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
