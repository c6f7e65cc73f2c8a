"""The deployed stack, rehearsed offline (local/functions.py, local/iam.py, local/cloudformation.py;
docs/deploy.md): each function runs with its own environment from the translated template, reads
its keys from moto's Secrets Manager, and every AWS call it makes is judged by its role; the
migrations run through CloudFormation's custom resource contract."""

from __future__ import annotations

import copy
import os

import psycopg2
import pytest

from local.cloudformation import CustomResourceFailed
from local.runner import MIGRATIONS
from videobot import migrate


def test_each_function_gets_its_own_environment_and_its_keys_from_secrets(pipeline):
    # Given every function starts in a new sandbox, and the template names the OpenAI key's
    # secret on GenerateScriptFunction only
    pipeline.cold_start()
    pipeline.policy_check.checked.clear()
    script = pipeline.function_runtime("GenerateScriptFunction")
    # Then it read its key and the database URL from Secrets Manager, judged by its role
    read = {
        c.resource: c.decision.allowed
        for c in pipeline.policy_check.checked
        if c.principal == "GenerateScriptFunctionRole"
    }
    assert read == {
        pipeline.functions.secrets["OpenAIApiKeySecret"]: True,
        pipeline.functions.secrets["DatabaseUrlSecret"]: True,
    }
    # and another function reads the database secret itself, not from the first one's cache
    pipeline.function_runtime("SplitIntoSegmentsFunction")
    split = [c.resource for c in pipeline.policy_check.checked if c.principal == "SplitIntoSegmentsFunctionRole"]
    assert split == [pipeline.functions.secrets["DatabaseUrlSecret"]]
    webhook_worker = pipeline.function_runtime("HandleSlowUpdateFunction")
    deliver = pipeline.function_runtime("DeliverVideoFunction")
    # Then no key and no database URL reaches a function as a plain value: each comes from its secret
    for rt in (script, webhook_worker, deliver):
        assert not {"OPENAI_API_KEY", "TELEGRAM_BOT_TOKEN", "DATABASE_URL"} & set(rt.environ)
        assert rt.environ["DATABASE_URL_SECRET_ARN"] == pipeline.functions.secrets["DatabaseUrlSecret"]
        assert rt.settings.database.url == pipeline.runtime.db.url  # read through videobot.secrets
    assert script.environ["OPENAI_API_KEY_SECRET_ARN"] == pipeline.functions.secrets["OpenAIApiKeySecret"]
    assert "OPENAI_API_KEY_SECRET_ARN" not in deliver.environ
    # and what the template does not give a function stays "none"
    assert script.settings.providers.notifier == "none" and deliver.settings.providers.llm == "none"
    assert webhook_worker.environ["STATE_MACHINE_ARN"] == pipeline.state_machine_arn


def without(template: dict, function: str, grant: str) -> dict:
    """A copy of the template with the function's first policy naming `grant` removed."""
    changed = copy.deepcopy(template)
    policies = changed["Resources"][function]["Properties"]["Policies"]
    policies.remove(next(p for p in policies if grant in str(p)))
    return changed


@pytest.mark.parametrize(
    ("function", "grant", "principal", "action"),
    [
        # the function may no longer read the key its environment names
        ("GenerateScriptFunction", "OpenAIApiKeySecret", "GenerateScriptFunctionRole", "secretsmanager:GetSecretValue"),
        # the state machine may no longer invoke the script's function
        (
            "VideoPipelineStateMachine",
            "GenerateScriptFunction",
            "VideoPipelineStateMachineRole",
            "lambda:InvokeFunction",
        ),
    ],
)
def test_a_grant_removed_from_the_template_fails_the_run_with_access_denied(
    pipeline, function, grant, principal, action
):
    # Given a copy of template.yaml with one grant removed, deployed in place of the file
    with pipeline.deployed(without(pipeline.functions.stack.sam, function, grant)):
        pipeline.policy_check.checked.clear()
        # When a job runs
        outcome = pipeline.run_job("Реклама кофе", timeout=120)
    # Then it fails, and the call was denied as AWS denies it
    assert outcome.job["status"] == "failed"
    denied = pipeline.policy_check.denied()
    assert {(d.principal, d.action) for d in denied} == {(principal, action)}
    pipeline.policy_check.checked.clear()  # expected here (the suite fails any other denial)


def test_the_migrations_answer_create_update_and_delete_through_the_response_url(pipeline):
    cfn = pipeline.cloudformation
    created = cfn.request("DatabaseMigrations", "Create")
    assert created.status == "SUCCESS" and created.content_type == ""  # the presigned URL's empty type
    service_timeout = float(pipeline.functions.stack.properties("DatabaseMigrations")["ServiceTimeout"])
    assert created.seconds < service_timeout
    updated = cfn.request("DatabaseMigrations", "Update", physical_id=created.physical_id)
    assert updated.status == "SUCCESS" and updated.physical_id == created.physical_id
    deleted = cfn.request("DatabaseMigrations", "Delete", physical_id=created.physical_id)
    assert deleted.status == "SUCCESS" and deleted.physical_id == created.physical_id


def test_a_migration_that_cannot_finish_answers_failed_within_the_service_timeout(pipeline, database_url):
    """The advisory lock held by another migrator: the migrations' lock_timeout, from the Lambda's
    remaining time, ends the wait and the resource answers FAILED, long before ServiceTimeout."""
    from videobot.deploy_hooks import ANSWER_RESERVE_SECONDS

    holder = psycopg2.connect(database_url)
    holder.autocommit = True
    with holder.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (migrate._LOCK_ID,))
    saved = pipeline.endpoint.timeouts[MIGRATIONS]
    pipeline.endpoint.timeouts[MIGRATIONS] = ANSWER_RESERVE_SECONDS + 2  # a Lambda with 2 s for the work
    try:
        with pytest.raises(CustomResourceFailed) as failed:
            pipeline.cloudformation.request("DatabaseMigrations", "Update", physical_id="DatabaseMigrations-migrations")
    finally:
        pipeline.endpoint.timeouts[MIGRATIONS] = saved
        holder.close()
    answer = failed.value.answer
    assert answer is not None and answer.status == "FAILED"
    assert "ran out of time" in answer.reason
    assert answer.seconds < ANSWER_RESERVE_SECONDS  # answered, not left for ServiceTimeout


def test_a_custom_resource_that_never_answers_fails_at_its_service_timeout(pipeline):
    cfn = pipeline.cloudformation
    # Given a ServiceToken function that dies unanswered (its Lambda times out first)
    saved = pipeline.endpoint.handlers[MIGRATIONS]
    pipeline.endpoint.handlers[MIGRATIONS] = lambda event, context: None
    try:
        with pytest.raises(CustomResourceFailed, match="did not receive a response"):
            cfn.request("DatabaseMigrations", "Create", service_timeout=1)
    finally:
        pipeline.endpoint.handlers[MIGRATIONS] = saved


def test_functions_run_in_warm_worker_processes_pooled_per_function(pipeline):
    """As `make demo` runs them: each function in processes of its own, its runtime built there
    from its environment and its secrets, its calls judged by its role."""
    names = ["GenerateScriptFunction", "RequestApprovalFunction", "CancelJobFunction"]
    with pipeline.in_workers(names) as pools:
        # When two jobs are rejected at the script (the script written, the gate asked, the job ended)
        first = pipeline.run_job("Реклама кофе", lambda job, gate: False, timeout=120)
        cold = {name: pool.started for name, pool in pools.items()}
        second = pipeline.run_job("Реклама чая", lambda job, gate: False, timeout=120)
        # Then each ran in its function's own processes, started once and warm for the second job
        assert first.job["status"] == second.job["status"] == "cancelled"
        assert all(count >= 1 for count in cold.values())
        assert {name: pool.started for name, pool in pools.items()} == cold
        assert all(pid != os.getpid() for pool in pools.values() for pid in pool.pids())
        assert pools["GenerateScriptFunction"].environ["LLM_PROVIDER"] != "none"
        assert "OPENAI_API_KEY" not in pools["GenerateScriptFunction"].environ
