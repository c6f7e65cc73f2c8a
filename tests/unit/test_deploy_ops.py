"""Deploy-time operations: the migrations custom resource (real PostgreSQL, a local stand-in
for CloudFormation's presigned response URL) and `make set-webhook` / `make delete` helpers
(moto for AWS, a local fake of the Telegram Bot API)."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

import boto3
import pytest
from moto import mock_aws

from infra import stack
from tests.fakes.http import BurstServer
from videobot.data import db
from videobot.deploy_hooks import handle_migrations


class _Recorder(BaseHTTPRequestHandler):
    """Records requests; answers like S3 (PUT) or the Telegram Bot API (POST/GET)."""

    calls: list = []
    telegram_ok = True

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status: int, payload: dict | None = None) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):  # CloudFormation's presigned S3 URL
        self.calls.append(("PUT", self.path, dict(self.headers), json.loads(self._body())))
        self._reply(200)

    def do_POST(self):
        body = json.loads(self._body() or b"{}")
        self.calls.append(("POST", self.path, dict(self.headers), body))
        if not self.path.endswith("/setWebhook"):
            return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if not type(self).telegram_ok:
            return self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        self._reply(200, {"ok": True, "result": True, "description": "Webhook was set"})

    def do_GET(self):
        self.calls.append(("GET", self.path, dict(self.headers), None))
        hook = next(c[3] for c in reversed(self.calls) if c[0] == "POST")
        self._reply(
            200,
            {"ok": True, "result": {"url": hook["url"], "has_custom_certificate": False, "pending_update_count": 0}},
        )

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Recorder.calls = []
    _Recorder.telegram_ok = True
    httpd = BurstServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _event(url: str, request: str, **extra) -> dict:
    return {
        "RequestType": request,
        "ResponseURL": f"{url}/cfn-response?X-Amz-Signature=abc",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/bot/1",
        "RequestId": "req-1",
        "LogicalResourceId": "DatabaseMigrations",
        "ResourceType": "Custom::DatabaseMigrations",
        "ResourceProperties": {"CodeVersion": "7"},
        **extra,
    }


def _applied_versions() -> set[str]:
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT version FROM public.video_bot_schema_migrations")
        return {row[0] for row in cur.fetchall()}


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_migrations_custom_resource_applies_and_answers_success(server, request_type):
    from videobot.migrate import migration_files

    result = handle_migrations(_event(server, request_type, PhysicalResourceId="DatabaseMigrations-migrations"))
    assert result["Status"] == "SUCCESS"
    assert result["Reason"] == "applied: nothing new"  # the session already migrated: idempotent
    assert _applied_versions() == {version for version, _ in migration_files()}
    method, path, headers, body = _Recorder.calls[-1]
    assert (method, urlsplit(path).path) == ("PUT", "/cfn-response")
    assert headers.get("content-type", "") == ""
    assert body["Status"] == "SUCCESS" and body["RequestId"] == "req-1"
    assert body["PhysicalResourceId"] == "DatabaseMigrations-migrations"
    assert body["LogicalResourceId"] == "DatabaseMigrations" and body["StackId"].endswith("bot/1")


def test_a_failing_migration_answers_failed_so_the_deploy_rolls_back(server):
    def broken() -> list[str]:
        raise RuntimeError("syntax error at or near CREAT")

    result = handle_migrations(_event(server, "Update", PhysicalResourceId="p"), migrate=broken)
    assert result["Status"] == "FAILED"
    body = _Recorder.calls[-1][3]
    assert body["Status"] == "FAILED" and "RuntimeError: syntax error" in body["Reason"]


def test_delete_keeps_the_data_and_answers_success(server):
    ran = []
    result = handle_migrations(_event(server, "Delete", PhysicalResourceId="p"), migrate=lambda: ran.append(1) or [])
    assert ran == [] and result["Status"] == "SUCCESS"
    assert _Recorder.calls[-1][3]["Status"] == "SUCCESS"


def test_set_webhook_registers_the_url_with_the_secret_token(server):
    info = stack.set_webhook(
        "123:ABC", "https://abc.execute-api.us-east-1.amazonaws.com/telegram/webhook", "s3cret_token-1", base_url=server
    )
    method, path, _, body = _Recorder.calls[0]
    assert (method, path) == ("POST", "/bot123:ABC/setWebhook")
    assert body["secret_token"] == "s3cret_token-1"
    assert body["url"].endswith("/telegram/webhook")
    assert body["allowed_updates"] == ["message", "callback_query"]
    assert info["url"] == body["url"]


def test_set_webhook_reports_telegram_errors(server):
    _Recorder.telegram_ok = False
    with pytest.raises(SystemExit, match="401 Unauthorized"):
        stack.set_webhook("bad", "https://x/telegram/webhook", "s", base_url=server)


def test_stack_outputs_secrets_and_bucket_emptying_against_moto():
    suffix = uuid.uuid4().hex[:8]  # moto's state outlives a nested mock_aws when another mock is active
    bucket, stack_name = f"media-{suffix}", f"bot-{suffix}"
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        app = sm.create_secret(Name=f"app-{suffix}", SecretString=json.dumps({"TELEGRAM_BOT_TOKEN": "123:ABC"}))["ARN"]
        hook = sm.create_secret(Name=f"hook-{suffix}", SecretString="generated-secret")["ARN"]
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=bucket)
        for i in range(3):
            s3.put_object(Bucket=bucket, Key=f"jobs/j1/clips/{i:02d}.mp4", Body=b"x")
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        cfn.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(
                {
                    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                    "Outputs": {
                        "AppSecretsArn": {"Value": app},
                        "WebhookSecretArn": {"Value": hook},
                        "MediaBucketName": {"Value": bucket},
                    },
                }
            ),
        )
        outputs = stack.stack_outputs(cfn, stack_name)
        assert stack.read_bot_secrets(sm, outputs) == ("123:ABC", "generated-secret")
        assert stack.empty_bucket(s3, outputs["MediaBucketName"]) == 3
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_stack_name_comes_from_samconfig():
    assert stack.stack_name_from_samconfig("default") == "ai-video-bot-dev"
    assert stack.stack_name_from_samconfig("prod") == "ai-video-bot-prod"
