"""What the functions can hold open on RDS fits its max_connections, by construction: each
function's ReservedConcurrentExecutions (its containers at most) x its DATABASE_POOL_SIZE (the
connections one container opens at most), summed over every function, stays within the
connections set aside for them. docs/deploy.md shows the same arithmetic (checked here), and
the state machine waits out a throttled Lambda instead of failing the job."""

from __future__ import annotations

from pathlib import Path

import pytest

from local import template as tpl
from videobot import config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
RETRY_POLICIES = ROOT / "statemachine" / "retry_policies.json"

# db.t4g.micro (1 GiB): max_connections = LEAST(DBInstanceClassMemory / 9531392, 5000), at most
# 112, less once RDS has taken its own memory: about 100 (docs/deploy.md). 30 stay free for
# RDS's own sessions, the superuser reservations, psql and the monitoring queries.
FUNCTION_CONNECTIONS = 70
LAMBDA_MIN_UNRESERVED = 100  # Lambda keeps this much of the account's concurrency unreserved


@pytest.fixture(scope="module")
def template() -> dict:
    return tpl.load_template()


def budget(template: dict) -> list[tuple[str, int, int]]:
    """(function, reserved concurrency, pool size) for every function of the template."""
    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    rows = []
    for name, res in sorted(template["Resources"].items()):
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        env = {**globals_env, **((props.get("Environment") or {}).get("Variables") or {})}
        # the figure as the function's settings read it (validated the same way)
        pool = config.DatabaseSettings.model_validate({"DATABASE_POOL_SIZE": env["DATABASE_POOL_SIZE"]}).pool_size
        rows.append((name, props.get("ReservedConcurrentExecutions"), pool))
    return rows


def render_budget(template: dict) -> str:
    """The table docs/deploy.md shows."""
    rows = budget(template)
    lines = ["| function | reserved concurrency | connections each | at most |", "|---|---|---|---|"]
    lines += [f"| {name} | {reserved} | {pool} | {reserved * pool} |" for name, reserved, pool in rows]
    total_reserved = sum(reserved for _, reserved, _ in rows)
    total = sum(reserved * pool for _, reserved, pool in rows)
    lines.append(f"| **all {len(rows)} functions** | **{total_reserved}** | | **{total}** |")
    return "\n".join(lines)


def test_every_function_has_a_reserved_concurrency(template):
    missing = [name for name, reserved, _ in budget(template) if not isinstance(reserved, int) or reserved < 1]
    assert missing == [], "a function without ReservedConcurrentExecutions could open any number of connections"


def test_what_the_functions_can_hold_open_fits_the_connections_set_aside_for_them(template):
    rows = budget(template)
    assert len(rows) >= 20
    assert sum(reserved * pool for _, reserved, pool in rows) <= FUNCTION_CONNECTIONS


def test_the_deploy_guide_shows_the_template_s_arithmetic(template):
    doc = DEPLOY_DOC.read_text(encoding="utf-8")
    assert render_budget(template) in doc, "docs/deploy.md's table is not the template's: paste render_budget()"
    reserved = sum(r for _, r, _ in budget(template))
    assert f"at least {reserved + LAMBDA_MIN_UNRESERVED} concurrent executions" in doc
    assert f"{FUNCTION_CONNECTIONS} connections" in doc


def test_telegram_opens_no_more_connections_than_the_webhook_has_reserved(template):
    from infra import stack

    reserved = template["Resources"]["WebhookFunction"]["Properties"]["ReservedConcurrentExecutions"]
    assert reserved == stack.WEBHOOK_CONNECTIONS  # setWebhook's max_connections


def test_a_throttled_lambda_is_waited_out_for_minutes_not_seconds():
    """Reserved concurrency throttles a function at its figure (Lambda.TooManyRequestsException):
    the standard Lambda retry waits up to minutes, so a burst of jobs queues instead of failing."""
    import json

    policies = json.loads(RETRY_POLICIES.read_text(encoding="utf-8"))["Policies"]
    # every policy a Lambda Task uses (ChildExecution starts a child execution, not a Lambda)
    lambda_policies = {name: r for name, r in policies.items() if name != "ChildExecution"}
    assert set(lambda_policies) == {"Stage", "ApprovalGate"}
    for name, retriers in lambda_policies.items():
        (throttle,) = [r for r in retriers if "Lambda.TooManyRequestsException" in r["ErrorEquals"]]
        waits = [
            min(throttle["IntervalSeconds"] * throttle["BackoffRate"] ** n, throttle.get("MaxDelaySeconds", 1e9))
            for n in range(throttle["MaxAttempts"])
        ]
        assert sum(waits) >= 180, f"{name}: a throttle is retried for at most {sum(waits):.0f} s"
