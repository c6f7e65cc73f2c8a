"""Operations on a deployed stack: register the Telegram webhook, empty the media bucket.

    python -m infra.stack set-webhook  [--stack NAME | --config-env dev]
    python -m infra.stack empty-bucket [--stack NAME | --config-env dev]
    python -m infra.stack outputs      [--stack NAME | --config-env dev]

The stack name comes from --stack, AWS_SAM_STACK_NAME, or samconfig.toml's environment.
Secrets are read from Secrets Manager and never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_DEFAULT_BASE_URL = "https://api.telegram.org"
ALLOWED_UPDATES = ["message", "callback_query"]
# Telegram opens at most this many connections to the webhook at once: the WebhookFunction's
# reserved concurrency in template.yaml, so Telegram queues a burst instead of meeting a
# throttled Lambda (tests/unit/test_database_budget.py keeps the two equal).
WEBHOOK_CONNECTIONS = 8


def stack_name_from_samconfig(config_env: str, path: Path = ROOT / "samconfig.toml") -> str:
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    for env in (config_env, "default"):
        name = config.get(env, {}).get("global", {}).get("parameters", {}).get("stack_name")
        if name:
            return name
    raise SystemExit(f"no stack_name for config env {config_env!r} in {path.name}")


def stack_outputs(cfn, stack_name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def media_bucket(cfn, stack_name: str) -> str | None:
    """The stack's media bucket, or None when there is none to empty. A stack whose first
    deploy rolled back (ROLLBACK_COMPLETE) has no outputs, so the bucket is looked up among
    its resources; one the rollback deleted, or a stack that does not exist, has none."""
    from botocore.exceptions import ClientError

    try:
        outputs = stack_outputs(cfn, stack_name)
        if outputs.get("MediaBucketName"):
            return outputs["MediaBucketName"]
        resources = cfn.describe_stack_resources(StackName=stack_name, LogicalResourceId="MediaBucket")
    except ClientError as exc:
        if "does not exist" in exc.response["Error"].get("Message", ""):
            return None
        raise
    for resource in resources["StackResources"]:
        if resource.get("PhysicalResourceId") and resource["ResourceStatus"] != "DELETE_COMPLETE":
            return resource["PhysicalResourceId"]
    return None


def read_bot_secrets(secretsmanager, outputs: dict[str, str]) -> tuple[str, str]:
    """(bot token, webhook secret) from the stack's two Telegram secrets."""
    token = secretsmanager.get_secret_value(SecretId=outputs["TelegramBotTokenSecretArn"])["SecretString"]
    secret = secretsmanager.get_secret_value(SecretId=outputs["WebhookSecretArn"])["SecretString"]
    if not token:
        raise SystemExit("the stack's bot token secret is empty")
    return token, secret


def set_webhook(token: str, url: str, secret: str, base_url: str | None = None) -> dict:
    """Call setWebhook with the secret token, then return getWebhookInfo's result."""
    base = (base_url or os.environ.get("TELEGRAM_API_BASE_URL") or TELEGRAM_DEFAULT_BASE_URL).rstrip("/")
    response = requests.post(
        f"{base}/bot{token}/setWebhook",
        timeout=30,
        json={
            "url": url,
            "secret_token": secret,
            "allowed_updates": ALLOWED_UPDATES,
            "max_connections": WEBHOOK_CONNECTIONS,
        },
    )
    body = response.json()
    if not body.get("ok"):
        raise SystemExit(f"setWebhook failed: {body.get('error_code')} {body.get('description')}")
    info = requests.get(f"{base}/bot{token}/getWebhookInfo", timeout=30).json()
    return info.get("result", {})


def empty_bucket(s3, bucket: str) -> int:
    """Delete every object; a bucket that is already gone has nothing to delete."""
    from botocore.exceptions import ClientError

    deleted = 0
    paginator = s3.get_paginator("list_objects_v2")
    try:
        for page in paginator.paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucket":
            raise
    return deleted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.stack", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["set-webhook", "empty-bucket", "outputs"])
    parser.add_argument("--stack", default=os.environ.get("AWS_SAM_STACK_NAME"))
    parser.add_argument("--config-env", default="default")
    args = parser.parse_args(argv)

    import boto3

    stack = args.stack or stack_name_from_samconfig(args.config_env)
    cfn = boto3.client("cloudformation")
    if args.command == "empty-bucket":  # before `sam delete`: also on a stack that rolled back
        bucket = media_bucket(cfn, stack)
        if bucket is None:
            print(f"stack {stack} has no media bucket to empty")
        else:
            print(f"deleted {empty_bucket(boto3.client('s3'), bucket)} objects from {bucket}")
        return 0
    outputs = stack_outputs(cfn, stack)
    if args.command == "outputs":
        for key, value in sorted(outputs.items()):
            print(f"{key:24} {value}")
    elif args.command == "set-webhook":
        token, secret = read_bot_secrets(boto3.client("secretsmanager"), outputs)
        info = set_webhook(token, outputs["WebhookUrl"], secret)
        print(
            f"webhook set for stack {stack}: {info.get('url')} (pending updates: {info.get('pending_update_count', 0)})"
        )
        if info.get("last_error_message"):
            print(f"Telegram's last delivery error: {info['last_error_message']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
