"""Deploy-time operations: the migrations custom resource (real PostgreSQL, a local stand-in
for CloudFormation's presigned response URL) and `make set-webhook` / `make delete` helpers
(moto for AWS, a local fake of the Telegram Bot API)."""

from __future__ import annotations

import ast
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import psycopg2
import psycopg2.errors
import pytest
from moto import mock_aws

from infra import stack
from tests.fakes.http import BurstServer
from videobot import deploy_hooks
from videobot.deploy_hooks import handle_migrations

ROOT = Path(__file__).resolve().parents[2]


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


def _applied_versions(db) -> set[str]:
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT version FROM public.video_bot_schema_migrations")
        return {row[0] for row in cur.fetchall()}


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_migrations_custom_resource_applies_and_answers_success(rt, db, server, request_type):
    from migrate_database.app import migrations

    from videobot.migrate import migration_files

    event = _event(server, request_type, PhysicalResourceId="DatabaseMigrations-migrations")
    result = handle_migrations(event, None, migrate=migrations(lambda: rt))
    assert result["Status"] == "SUCCESS"
    assert result["Reason"] == "applied: nothing new"  # the session already migrated: idempotent
    assert _applied_versions(db) == {version for version, _ in migration_files()}
    method, path, headers, body = _Recorder.calls[-1]
    assert (method, urlsplit(path).path) == ("PUT", "/cfn-response")
    assert headers.get("content-type", "") == ""
    assert body["Status"] == "SUCCESS" and body["RequestId"] == "req-1"
    assert body["PhysicalResourceId"] == "DatabaseMigrations-migrations"
    assert body["LogicalResourceId"] == "DatabaseMigrations" and body["StackId"].endswith("bot/1")


def test_a_failing_migration_answers_failed_so_the_deploy_rolls_back(server):
    def broken(deadline=None) -> list[str]:
        raise RuntimeError("syntax error at or near CREAT")

    result = handle_migrations(_event(server, "Update", PhysicalResourceId="p"), None, migrate=broken)
    assert result["Status"] == "FAILED"
    body = _Recorder.calls[-1][3]
    assert body["Status"] == "FAILED" and "RuntimeError: syntax error" in body["Reason"]


def test_delete_keeps_the_data_and_answers_success(server):
    ran = []
    result = handle_migrations(
        _event(server, "Delete", PhysicalResourceId="p"), None, migrate=lambda deadline=None: ran.append(1) or []
    )
    assert ran == [] and result["Status"] == "SUCCESS"
    assert _Recorder.calls[-1][3]["Status"] == "SUCCESS"


class _Context:
    """A Lambda context with `seconds` left."""

    def __init__(self, seconds: float):
        self._deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def test_the_custom_resource_module_loads_with_the_standard_library_alone():
    # CloudFormation waits for an answer until ServiceTimeout: whatever the handler imports
    # before its guarded call must not be able to fail, so it is the standard library only.
    for path in (
        ROOT / "functions" / "migrate_database" / "app.py",
        ROOT / "functions" / "videobot" / "deploy_hooks.py",
    ):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        modules = {a.name for n in top if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module for n in top if isinstance(n, ast.ImportFrom)}
        allowed = set(sys.stdlib_module_names) | {"__future__", "videobot.deploy_hooks"}
        assert {m for m in modules if m.split(".")[0] not in allowed and m not in allowed} == set(), path.name


@pytest.mark.parametrize("request_type, status", [("Create", "FAILED"), ("Update", "FAILED"), ("Delete", "SUCCESS")])
def test_an_import_error_still_answers_and_delete_always_succeeds(server, monkeypatch, request_type, status):
    from migrate_database.app import lambda_handler

    monkeypatch.setitem(sys.modules, "videobot.migrate", None)  # `from videobot.migrate import …` fails
    monkeypatch.setitem(sys.modules, "videobot.observability", None)  # and so does the logger
    result = lambda_handler(_event(server, request_type, PhysicalResourceId="p"))
    body = _Recorder.calls[-1][3]
    assert result["Status"] == body["Status"] == status
    if status == "FAILED":
        assert "ModuleNotFoundError" in body["Reason"]


def test_an_unknown_request_type_answers_failed(server):
    assert (
        handle_migrations(_event(server, "Replace", PhysicalResourceId="p"), None, lambda deadline=None: [])["Status"]
        == "FAILED"
    )


def test_the_migrations_stop_in_time_to_answer_when_the_lock_is_held(rt, db, server):
    """Another migrator holds the advisory lock: the wait is cut off by lock_timeout from the
    Lambda's remaining time less the answer's reserve, and FAILED is sent before the Lambda's end."""
    from migrate_database.app import migrations as on

    from videobot import migrate as migrations

    holder = psycopg2.connect(db.url)
    release = threading.Timer(8, holder.close)  # were the wait not cut off, the test fails, not hangs
    release.start()
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (migrations._LOCK_ID,))
        started = time.monotonic()
        result = handle_migrations(
            _event(server, "Update", PhysicalResourceId="p"),
            _Context(deploy_hooks.ANSWER_RESERVE_SECONDS + 1.5),
            migrate=on(lambda: rt),
        )
        took = time.monotonic() - started
    finally:
        release.cancel()
        holder.close()
    assert result["Status"] == _Recorder.calls[-1][3]["Status"] == "FAILED"
    assert "TimeoutError: the migrations ran out of time" in result["Reason"]
    assert "lock timeout" in result["Reason"] or "statement timeout" in result["Reason"]
    assert 1.0 <= took < 1.5 + 3.0  # cut off at the deadline, answered well before the Lambda's end
    # the pooled connection is back without the limits, and the lock is free for the next deploy
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")
        assert cur.fetchone() == ("0", "0")
    assert migrations.migrate(db, deadline=time.monotonic() + 30) == []


def test_a_migration_is_cut_off_by_the_statement_timeout(db, monkeypatch):
    from videobot import migrate as migrations

    monkeypatch.setattr(migrations, "migration_files", lambda: [("9999_slow", "SELECT pg_sleep(30)")], raising=True)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="statement timeout"):
        migrations.migrate(db, deadline=time.monotonic() + 1.0)
    assert time.monotonic() - started < 4
    assert "9999_slow" not in _applied_versions(db)


def test_no_time_left_starts_nothing(db):
    from videobot import migrate as migrations

    with pytest.raises(TimeoutError):
        migrations.migrate(db, deadline=time.monotonic() - 1)


def test_set_webhook_registers_the_url_with_the_secret_token(server):
    info = stack.set_webhook(
        "123:ABC", "https://abc.execute-api.us-east-1.amazonaws.com/telegram/webhook", "s3cret_token-1", base_url=server
    )
    method, path, _, body = _Recorder.calls[0]
    assert (method, path) == ("POST", "/bot123:ABC/setWebhook")
    assert body["secret_token"] == "s3cret_token-1"
    assert body["url"].endswith("/telegram/webhook")
    assert body["allowed_updates"] == ["message", "callback_query"]
    assert body["max_connections"] == stack.WEBHOOK_CONNECTIONS
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
        token = sm.create_secret(Name=f"token-{suffix}", SecretString="123:ABC")["ARN"]
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
                        "TelegramBotTokenSecretArn": {"Value": token},
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


def test_make_delete_empties_the_bucket_of_a_stack_that_rolled_back(capsys):
    """A first deploy that rolled back leaves a stack without outputs: `make delete` finds the
    bucket among its resources (or says there is none) and goes on to `sam delete`."""
    suffix = uuid.uuid4().hex[:8]
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        # no Outputs, as after ROLLBACK_COMPLETE; the bucket still there with a file in it
        cfn.create_stack(
            StackName=f"kept-{suffix}",
            TemplateBody=json.dumps({"Resources": {"MediaBucket": {"Type": "AWS::S3::Bucket"}}}),
        )
        bucket = stack.media_bucket(cfn, f"kept-{suffix}")
        s3.put_object(Bucket=bucket, Key="jobs/j1/final.mp4", Body=b"x")
        assert stack.main(["empty-bucket", "--stack", f"kept-{suffix}"]) == 0
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
        # a stack without the bucket, a bucket already gone, a stack that does not exist
        cfn.create_stack(
            StackName=f"bare-{suffix}", TemplateBody=json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
        )
        assert stack.media_bucket(cfn, f"bare-{suffix}") is None
        assert stack.main(["empty-bucket", "--stack", f"bare-{suffix}"]) == 0
        assert stack.empty_bucket(s3, f"gone-{suffix}") == 0
        assert stack.media_bucket(cfn, f"never-{suffix}") is None
        assert stack.main(["empty-bucket", "--stack", f"never-{suffix}"]) == 0
    printed = capsys.readouterr().out
    assert f"deleted 1 objects from {bucket}" in printed
    assert f"stack bare-{suffix} has no media bucket" in printed
    assert f"stack never-{suffix} has no media bucket" in printed
