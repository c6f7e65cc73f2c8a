"""Tests against a deployed stack, found by AWS_SAM_STACK_NAME (`make test-aws`). Skipped
without it or without AWS credentials.

The root conftest swaps in fake AWS keys for moto when the session starts; the real ones are
remembered here, at import time (before that), and put back while these tests run."""

from __future__ import annotations

import os

import pytest

STACK = os.environ.get("AWS_SAM_STACK_NAME")
_AWS_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)
_REAL = {name: os.environ.get(name) for name in _AWS_VARS}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/tests/aws/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.aws)
            if not STACK:
                item.add_marker(pytest.mark.skip(reason="set AWS_SAM_STACK_NAME to test a deployed stack"))


@pytest.fixture(scope="session")
def aws_session():
    import boto3

    saved = {name: os.environ.get(name) for name in _AWS_VARS}
    for name, value in _REAL.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        session = boto3.Session()
        if session.get_credentials() is None:
            pytest.skip("no AWS credentials")
        yield session
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def outputs(aws_session) -> dict[str, str]:
    stack = aws_session.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"].endswith("_COMPLETE") and "ROLLBACK" not in stack["StackStatus"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
