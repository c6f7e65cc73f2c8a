"""The deployment template, checked offline: what cfn-lint cannot see (ASL substitutions,
invoke permissions, wildcard actions, functions vs folders, retry policies) and what the
deployment promises (private media, secrets by ARN, log retention, alarms).
`make test` also runs infra/ci_checks.sh (sam validate --lint, asl-validator, sam build)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from local import template as tpl
from tests import function_needs as needs
from videobot.config import Settings
from videobot.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "statemachine" / "video_pipeline.asl.json"
# Each state machine of the template and its definition: the pipeline, and each segment's image
# or clip as its child execution (statemachine/segment_media.asl.json).
MACHINES = {
    "VideoPipelineStateMachine": ASL,
    "SegmentMediaStateMachine": ROOT / "statemachine" / "segment_media.asl.json",
}
CHILD_EXECUTION = "arn:aws:states:::states:startExecution.sync:2"
RETRY_POLICIES = ROOT / "statemachine" / "retry_policies.json"
STANDARD_LAMBDA_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
FFMPEG_FUNCTIONS = {"SubmitClipFunction", "CheckClipFunction", "RecordVoiceoverFunction", "AssembleVideoFunction"}
# Written by another change in parallel; checked as soon as its folder exists.
PARALLEL_FUNCTIONS = {"WebhookFunction": "webhook"}


@pytest.fixture(scope="module")
def template() -> dict:
    return tpl.load_template()


@pytest.fixture(scope="module")
def resources(template) -> dict:
    return template["Resources"]


def of_type(resources: dict, kind: str) -> dict:
    return {name: res for name, res in resources.items() if res["Type"] == kind}


def machine_props(resources, machine: str = "VideoPipelineStateMachine") -> dict:
    return resources[machine]["Properties"]


def test_the_state_machines_are_their_definitions(resources):
    machines = of_type(resources, "AWS::Serverless::StateMachine")
    assert {name: ROOT / res["Properties"]["DefinitionUri"] for name, res in machines.items()} == MACHINES


@pytest.mark.parametrize("machine", MACHINES)
def test_every_asl_placeholder_is_a_substitution_and_every_substitution_is_used(resources, machine):
    used = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", MACHINES[machine].read_text(encoding="utf-8")))
    keys = set(machine_props(resources, machine)["DefinitionSubstitutions"])
    assert used, "the ASL has no placeholders: the check would prove nothing"
    assert used - keys == set(), "placeholders without a DefinitionSubstitutions key"
    assert keys - used == set(), "DefinitionSubstitutions keys the ASL never uses"


def _invoked_functions(resources, machine: str | None = None) -> set[str]:
    """The functions a state machine's Tasks invoke (every state machine's: None)."""
    if machine is None:
        return set().union(*(_invoked_functions(resources, m) for m in MACHINES))
    subs = machine_props(resources, machine)["DefinitionSubstitutions"]
    text = MACHINES[machine].read_text(encoding="utf-8")
    invoked = set()
    for state in _task_states(json.loads(text)["States"]):
        if state["Resource"] == CHILD_EXECUTION:  # a child execution, not a function
            continue
        name = state.get("Parameters", {}).get("FunctionName", "")
        match = re.fullmatch(r"\$\{([A-Za-z0-9_]+)\}", name)
        assert match, f"task {state} names its function without a substitution"
        target = subs[match.group(1)]
        assert "Fn::GetAtt" in target and target["Fn::GetAtt"][1] == "Arn"
        invoked.add(target["Fn::GetAtt"][0])
    return invoked


def _named_task_states(states: dict):
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state
        for branch in state.get("Branches", []):
            yield from _named_task_states(branch["States"])
        if "ItemProcessor" in state:
            yield from _named_task_states(state["ItemProcessor"]["States"])


def _task_states(states: dict):
    for _, state in _named_task_states(states):
        yield state


def _retry_policies() -> dict[str, list]:
    return json.loads(RETRY_POLICIES.read_text(encoding="utf-8"))["Policies"]


def test_the_named_retry_policies_start_with_the_standard_lambda_retry():
    policies = _retry_policies()
    assert set(policies) == {"Stage", "ApprovalGate", "ChildExecution"}
    for name, retriers in policies.items():
        if name == "ChildExecution":  # a start Step Functions refused; never a child that failed
            assert all(e.startswith("StepFunctions.") for r in retriers for e in r["ErrorEquals"])
            continue
        lambda_retry = retriers[0]
        assert lambda_retry["ErrorEquals"] == STANDARD_LAMBDA_ERRORS, name
        assert lambda_retry["JitterStrategy"] == "FULL", name
        assert lambda_retry["MaxAttempts"] >= 2 and lambda_retry["BackoffRate"] > 1, name
        for retrier in retriers:
            assert retrier["JitterStrategy"] == "FULL", name
            # Retrying everything would retry refusals and rejections too; those are Caught.
            assert not {"States.ALL", "States.TaskFailed"} & set(retrier["ErrorEquals"]), name
        errors = [e for retrier in retriers for e in retrier["ErrorEquals"]]
        assert len(errors) == len(set(errors)), f"{name}: an error is named by two retriers"


def test_every_asl_task_retries_with_a_named_policy():
    # Step Functions cannot share a Retry block, so each Task repeats a named policy verbatim.
    policies = _retry_policies()
    tasks = {
        name: state
        for path in MACHINES.values()
        for name, state in _named_task_states(json.loads(path.read_text(encoding="utf-8"))["States"])
    }
    # with TranscribeVoiceTopic, the refused-segment pauses (AwaitRefused*, ResolveRefused*), each
    # kind's two child executions (the Map's, the refusal's) and the child's Submit*/Check*
    assert len(tasks) == 29
    used = {}
    for name, state in tasks.items():
        named = [policy for policy, retriers in policies.items() if state.get("Retry") == retriers]
        assert named, f"{name}'s Retry is none of the policies in statemachine/retry_policies.json"
        used[name] = named[0]
    gates = {name for name, state in tasks.items() if state["Resource"].endswith(".waitForTaskToken")}
    assert gates == {
        "AwaitScriptApproval",
        "AwaitImageApproval",
        "AwaitVideoApproval",
        "AwaitRefusedImage",
        "AwaitRefusedClip",
    }
    children = {name for name, state in tasks.items() if state["Resource"] == CHILD_EXECUTION}
    assert children == {"MakeImage", "MakeRefusedImageAgain", "AnimateClip", "AnimateRefusedClipAgain"}
    assert {name for name, policy in used.items() if policy == "ApprovalGate"} == gates
    assert {name for name, policy in used.items() if policy == "ChildExecution"} == children
    assert {name for name, policy in used.items() if policy == "Stage"} == set(tasks) - gates - children


@pytest.mark.parametrize("machine", MACHINES)
def test_every_function_the_asl_invokes_exists_and_has_an_invoke_permission(resources, machine):
    invoked = _invoked_functions(resources, machine)
    functions = of_type(resources, "AWS::Serverless::Function")
    permitted = {
        p["LambdaInvokePolicy"]["FunctionName"]["Ref"]
        for p in machine_props(resources, machine)["Policies"]
        if "LambdaInvokePolicy" in p
    }
    assert invoked <= set(functions)
    assert invoked - permitted == set(), "invoked without a LambdaInvokePolicy"
    assert permitted - invoked == set(), "invoke permission the state machine does not need"


def test_the_state_machines_invoke_every_stage_function_between_them(resources):
    # the 16 stage functions (TranscribeVoiceTopic first) and ReviseStage; Submit*/Check* in the child
    assert len(_invoked_functions(resources)) == 17
    assert _invoked_functions(resources, "SegmentMediaStateMachine") == {
        "SubmitImageFunction",
        "CheckImageFunction",
        "SubmitClipFunction",
        "CheckClipFunction",
    }


def test_the_pipeline_may_run_its_child_executions_to_the_end(resources):
    # states:startExecution.sync:2 needs StartExecution on the child, DescribeExecution and
    # StopExecution on its executions, and the managed EventBridge rule it follows them with.
    props = machine_props(resources)
    assert props["DefinitionSubstitutions"]["SegmentMediaStateMachineArn"] == {"Ref": "SegmentMediaStateMachine"}
    assert {
        "StepFunctionsExecutionPolicy": {"StateMachineName": {"Fn::GetAtt": ["SegmentMediaStateMachine", "Name"]}}
    } in props["Policies"]
    statements = {s["Sid"]: s for p in props["Policies"] if "Statement" in p for s in p["Statement"]}
    follow = statements["FollowSegmentMediaExecutions"]
    assert set(follow["Action"]) == {"states:DescribeExecution", "states:StopExecution"}
    assert ":execution:${SegmentMediaStateMachine.Name}:*" in follow["Resource"]["Fn::Sub"]
    rule = statements["SyncChildExecutions"]
    assert set(rule["Action"]) == {"events:PutTargets", "events:PutRule", "events:DescribeRule"}
    assert rule["Resource"]["Fn::Sub"].endswith(":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")


def _statements(node):
    """Every IAM-like statement anywhere in a template (inline policies, bucket policies)."""
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            yield node
        for value in node.values():
            yield from _statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from _statements(value)


@pytest.mark.parametrize("path", ["template.yaml", "infra/network.yaml", "infra/database.yaml"])
def test_no_wildcard_action_anywhere(path):
    statements = list(_statements(tpl.load_template(ROOT / path)))
    if path == "template.yaml":
        assert len(statements) >= 4  # the checker does see the inline statements
    for statement in statements:
        assert "NotAction" not in statement
        if statement["Effect"] == "Deny":  # a wildcard denies more, never grants (the TLS-only bucket policy)
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            assert isinstance(action, str) and "*" not in action, f"wildcard action {action!r} in {path}"


def test_only_sam_policy_templates_and_explicit_statements_grant_permissions(resources):
    allowed_templates = {
        "S3CrudPolicy",
        "AWSSecretsManagerGetSecretValuePolicy",
        "LambdaInvokePolicy",
        "StepFunctionsExecutionPolicy",
        "Statement",
    }
    own_managed = set(of_type(resources, "AWS::IAM::ManagedPolicy"))  # written out in this template
    for name, res in {
        **of_type(resources, "AWS::Serverless::Function"),
        **of_type(resources, "AWS::Serverless::StateMachine"),
    }.items():
        policies = res["Properties"]["Policies"]
        for policy in policies:
            if "Fn::If" in policy:
                policy = policy["Fn::If"][1]
            assert isinstance(policy, dict), f"{name} uses a managed policy by name: {policy}"
            if set(policy) == {"Ref"}:
                assert policy["Ref"] in own_managed, f"{name} uses a managed policy from elsewhere: {policy}"
                continue
            assert set(policy) <= allowed_templates, f"{name}: {set(policy)}"
    assert not of_type(resources, "AWS::IAM::Role"), "roles come from SAM policy templates"


def test_every_function_reads_the_database_secret_through_the_one_shared_policy(resources):
    statements = resources["ReadSecretsPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statements == [
        {
            "Sid": "ReadDatabaseSecret",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": {
                "Fn::If": [
                    "CreateDatabase",
                    {"Fn::GetAtt": ["Database", "Outputs.SecretArn"]},
                    {"Ref": "DatabaseUrlSecret"},
                ]
            },
        }
    ]
    for name, res in of_type(resources, "AWS::Serverless::Function").items():
        assert {"Ref": "ReadSecretsPolicy"} in res["Properties"]["Policies"], name


def _unwrap_if(value):
    """The branches of an Fn::If, else the value itself (AWS::NoValue left out)."""
    if isinstance(value, dict) and "Fn::If" in value:
        return [v for branch in value["Fn::If"][1:] for v in _unwrap_if(branch)]
    return [] if value == {"Ref": "AWS::NoValue"} else [value]


def _secret_reads(resources: dict, policy) -> list:
    """The secrets one entry of a function's Policies lets it read (GetSecretValue)."""
    if "AWSSecretsManagerGetSecretValuePolicy" in policy:
        return [policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]]
    if set(policy) == {"Ref"}:
        statements = resources[policy["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    else:
        statements = policy.get("Statement", [])
    granted = []
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] == "Allow" and "secretsmanager:GetSecretValue" in actions:
            listed = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            granted += [arn for resource in listed for arn in _unwrap_if(resource)]
    return granted


def test_every_secret_a_function_is_told_of_is_one_its_policies_let_it_read(template, resources):
    # videobot.secrets fetches every secret the environment names (DATABASE_SECRET_ARN,
    # <NAME>_SECRET_ARN) at start-up, and a secret it cannot read is a ConfigurationError: a
    # function named a secret it may not read fails every invocation (the migrations' custom
    # resource fails, and the first deploy rolls back).
    from videobot.secrets import SECRET_ARN_SUFFIX

    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    functions = of_type(resources, "AWS::Serverless::Function")
    checked = 0
    for name, res in functions.items():
        env = {**globals_env, **res["Properties"].get("Environment", {}).get("Variables", {})}
        named = [arn for key, value in env.items() if key.endswith(SECRET_ARN_SUFFIX) for arn in _unwrap_if(value)]
        granted = [
            arn
            for policy in res["Properties"]["Policies"]
            for entry in _unwrap_if(policy)
            for arn in _secret_reads(resources, entry)
        ]
        for arn in named:
            assert arn in granted, f"{name} is told of the secret {arn} but its policies do not let it read it"
            checked += 1
    assert checked >= len(functions)  # every function is told of one secret at least: the check sees them


# Deploys that change what a function is given: who speaks, and where the database is.
DEPLOYS = {
    "openai-speech-rds": {"TtsProvider": "openai", "ExistingDatabaseUrl": ""},
    "polly-speech-external-db": {"TtsProvider": "polly", "ExistingDatabaseUrl": "postgresql://u:p@db.example/v"},
}
PROVIDER_VALUES = {  # what each capability's provider setting says on AWS
    "telegram": "telegram",
    "llm": "openai",
    "images": "runway",
    "clips": "runway",
    "transcription": "openai",
}
VENDOR_KEYS = {"TELEGRAM_BOT_TOKEN", "OPENAI_API_KEY", "RUNWAYML_API_SECRET"}


def _deployed(template: dict, deploy: str) -> tuple[dict, dict]:
    params = needs.parameters(template, **DEPLOYS[deploy])
    return params, needs.conditions(template, params)


def _readable_secrets(resources: dict, policies: list, params: dict, conds: dict) -> set:
    """The secrets a function's Policies (resolved for one deploy) let it read."""
    readable = set()
    for policy in needs.resolve(policies, params, conds):
        if isinstance(policy, str):  # a managed policy of this template
            statements = needs.resolve(resources[policy]["Properties"]["PolicyDocument"]["Statement"], params, conds)
        elif "AWSSecretsManagerGetSecretValuePolicy" in policy:
            readable.add(policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"])
            continue
        else:
            statements = policy.get("Statement", [])
        for statement in statements:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement["Effect"] == "Allow" and "secretsmanager:GetSecretValue" in actions:
                listed = statement["Resource"]
                readable |= set(listed if isinstance(listed, list) else [listed])
    return readable


@pytest.mark.parametrize("deploy", sorted(DEPLOYS))
def test_each_function_is_given_the_providers_and_keys_its_code_calls_and_no_other(template, resources, deploy):
    """tests/function_needs.py says what each function's code calls (and the integration tests
    record what it reaches); here each function's environment and policies must give exactly
    that: the provider set (every other "none"), the secret of each provider's key, read
    permission for the secrets it is told of and for no other."""
    from videobot.config import PROVIDER_KEYS

    params, conds = _deployed(template, deploy)
    functions = of_type(resources, "AWS::Serverless::Function")
    assert set(functions) == set(needs.CODE_NEEDS)
    for name in functions:
        env = needs.function_environment(template, name, params)
        calls = needs.CODE_NEEDS[name]
        expected = {**PROVIDER_VALUES, "speech": params["TtsProvider"]}
        for capability, setting in needs.PROVIDER_OF.items():
            assert env[setting] == (expected[capability] if capability in calls else "none"), (name, setting)
        assert ("STATE_MACHINE_ARN" in env) == ("step_functions" in calls), name
        assert ("SLOW_UPDATE_FUNCTION_NAME" in env) == ("lambda" in calls), name
        # the keys: exactly those of the providers set, each by its own secret
        told = {key: value for key, value in env.items() if key.endswith("_SECRET_ARN")}
        for key, secret in told.items():
            if key != "DATABASE_SECRET_ARN":
                assert needs.SECRET_SETTINGS[secret] + "_SECRET_ARN" == key, (name, key, secret)
        keys = {needs.SECRET_SETTINGS[s] for s in told.values() if needs.SECRET_SETTINGS.get(s) in VENDOR_KEYS}
        providers = {env[setting] for setting in needs.PROVIDER_OF.values()}
        assert keys == {PROVIDER_KEYS[p].upper() for p in providers if p in PROVIDER_KEYS}, name
        # read permission for exactly the secrets it is told of
        readable = _readable_secrets(resources, resources[name]["Properties"]["Policies"], params, conds)
        named = set(told.values())
        assert readable == named, f"{name}: may read {readable - named or '-'}, is told of {named - readable or '-'}"


@pytest.mark.parametrize("deploy", sorted(DEPLOYS))
def test_each_function_starts_with_what_it_is_given_and_not_without_any_key_of_it(template, deploy):
    # videobot.config refuses to start a provider whose key it was not given: so every key a
    # function holds is one it needs, and with all of them it starts.
    from videobot import config

    params, _ = _deployed(template, deploy)
    started = 0
    for name in needs.CODE_NEEDS:
        env = needs.startup_environment(needs.function_environment(template, name, params))
        config.settings_from_environ(env)
        started += 1
        for key in VENDOR_KEYS & set(env):
            with pytest.raises(ConfigurationError, match=f"needs {key}"):
                config.settings_from_environ({k: v for k, v in env.items() if k != key})
    assert started == len(needs.CODE_NEEDS)


def test_functions_match_the_function_folders(resources):
    handlers = tpl.functions({"Resources": resources})
    modules = {name: handler.split(".")[0] for name, handler in handlers.items()}
    for name, handler in handlers.items():
        assert re.fullmatch(r"[a-z_]+\.app\.lambda_handler", handler), handler
        folder = ROOT / "functions" / modules[name]
        if name in PARALLEL_FUNCTIONS and not folder.exists():
            continue
        assert (folder / "app.py").is_file(), f"{name}: no functions/{modules[name]}/app.py"
    folders = {p.parent.name for p in (ROOT / "functions").glob("*/app.py")}
    assert folders - set(modules.values()) == set(), "function folders without a template function"


def test_pipeline_functions_are_the_invoked_ones(resources):
    template = {"Resources": resources}
    pipeline = tpl.pipeline_functions(template)
    assert set(pipeline) == _invoked_functions(resources)
    assert "WebhookFunction" not in pipeline and "MigrateDatabaseFunction" not in pipeline


def test_ffmpeg_functions_carry_the_layer_and_enough_memory_and_time(resources):
    functions = of_type(resources, "AWS::Serverless::Function")
    for name, res in functions.items():
        props = res["Properties"]
        has_layer = {"Ref": "FfmpegLayer"} in props.get("Layers", [])
        assert has_layer == (name in FFMPEG_FUNCTIONS), name
        if has_layer:
            assert 1024 <= props["MemorySize"] <= 2048
            assert props["Environment"]["Variables"]["FFMPEG_PATH"] == "/opt/bin/ffmpeg"
        assert props["Timeout"] <= 900
    assert functions["AssembleVideoFunction"]["Properties"]["Timeout"] == 900
    assert functions["AssembleVideoFunction"]["Properties"]["MemorySize"] == 2048
    assert functions["WebhookFunction"]["Properties"]["Timeout"] < 30  # HTTP API's limit
    layer = resources["FfmpegLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["ContentUri"] == "layers/ffmpeg/"


def test_every_function_has_a_retained_log_group_and_an_errors_alarm(template, resources):
    functions = of_type(resources, "AWS::Serverless::Function")
    groups = of_type(resources, "AWS::Logs::LogGroup")
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    logged = {
        g["Properties"]["LogGroupName"]["Fn::Sub"].split("${")[1].rstrip("}")
        for g in groups.values()
        if "LogGroupName" in g["Properties"] and g["Properties"]["LogGroupName"]["Fn::Sub"].startswith("/aws/lambda/")
    }
    assert logged == set(functions)
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    errors_alarms = {
        name: a["Properties"] for name, a in alarms.items() if a["Properties"].get("MetricName") == "Errors"
    }
    watched = {p["Dimensions"][0]["Value"]["Ref"] for p in errors_alarms.values()}
    assert watched == set(functions) - {"MigrateDatabaseFunction"}
    # The alarms are written out one per function: they differ only in the function they watch.
    for name, props in errors_alarms.items():
        function = props["Dimensions"][0]["Value"]["Ref"]
        assert name == f"{function}ErrorsAlarm"
        assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
        assert props["AlarmDescription"] == {"Fn::Sub": f"${{AWS::StackName}}: {function} raised errors"}
        assert {k: v for k, v in props.items() if k not in ("Dimensions", "AlarmDescription")} == {
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
        }, name
    for function in functions:
        assert groups[f"{function}Logs"]["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}
    failed = alarms["ExecutionsFailedAlarm"]["Properties"]
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in failed["Metrics"] if "MetricStat" in m} == {
        "ExecutionsFailed",
        "ExecutionsTimedOut",
    }
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms.values())


def test_the_alarms_reach_the_operator(template, resources):
    # CloudWatch cannot publish to a topic under the AWS-managed alias/aws/sns (its key policy
    # cannot grant cloudwatch.amazonaws.com): the alarms would fire and never be delivered.
    topic = resources["AlarmTopic"]["Properties"]
    key = topic.get("KmsMasterKeyId")
    if key is not None:  # a customer-managed key of this template, whose policy lets CloudWatch use it
        assert isinstance(key, dict) and resources[key.get("Ref", "")]["Type"] == "AWS::KMS::Key", key
        key_statements = resources[key["Ref"]]["Properties"]["KeyPolicy"]["Statement"]
        assert any(s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com" for s in key_statements)
    policies = [p["Properties"] for p in of_type(resources, "AWS::SNS::TopicPolicy").values()]
    assert [p["Topics"] for p in policies] == [[{"Ref": "AlarmTopic"}]]
    statements = policies[0]["PolicyDocument"]["Statement"]
    publish = [s for s in statements if s["Effect"] == "Allow" and s["Action"] == "sns:Publish"]
    assert [s["Principal"] for s in publish] == [{"Service": "cloudwatch.amazonaws.com"}]
    # only this account's alarms
    assert publish[0]["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert ":alarm:*" in publish[0]["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
    assert publish[0]["Resource"] == {"Ref": "AlarmTopic"}
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_a_failed_execution_means_a_fault_not_the_users_outcome(resources):
    # ExecutionsFailedAlarm counts failed and timed-out executions. A user's ❌, no answer at a
    # gate, and a failure on the user's input (content refused after every round, a voice note
    # that cannot be heard) end Succeeded, the job's status saying what happened; only a fault
    # (or a failure to record the outcome, which ReconcileExecution then ends) reaches a Fail.
    from videobot import errors, lifecycle

    states = json.loads(ASL.read_text(encoding="utf-8"))["States"]
    fails = {name for name, state in states.items() if state["Type"] == "Fail"}
    assert states[states["CancelJob"]["Next"]]["Type"] == "Succeed"
    assert states[states["RecordApprovalTimeout"]["Next"]]["Type"] == "Succeed"
    choice = states[states["RecordFailure"]["Next"]]
    assert choice["Type"] == "Choice"
    (on_input,) = choice["Choices"]
    assert on_input == {"Variable": "$.outcome.fault", "BooleanEquals": False, "Next": on_input["Next"]}
    assert states[on_input["Next"]]["Type"] == "Succeed" and choice["Default"] in fails
    assert states["RecordFailure"]["ResultSelector"]["fault.$"] == "$.Payload.fault"
    # each outcome's own failure still fails the execution, and the reconciler ends the job as the user's
    cleanup = {name: states[states[name]["Catch"][0]["Next"]] for name in ("CancelJob", "RecordApprovalTimeout")}
    assert cleanup["CancelJob"]["Type"] == "Fail" and cleanup["CancelJob"]["Error"] == "Rejected"
    assert cleanup["RecordApprovalTimeout"] == {**cleanup["RecordApprovalTimeout"], "Type": "Fail"}
    assert cleanup["RecordApprovalTimeout"]["Error"] == lifecycle.APPROVAL_TIMED_OUT
    assert states[states["RecordFailure"]["Catch"][0]["Next"]]["Type"] == "Fail"
    # the errors that are the user's input are errors the stages raise
    assert all(isinstance(getattr(errors, name, None), type) for name in lifecycle.NOT_A_FAULT)
    # ... and the alarm counts no stopped (ABORTED: the user's cancel between gates) execution
    failed = resources["ExecutionsFailedAlarm"]["Properties"]["Metrics"]
    watched = {m["MetricStat"]["Metric"]["MetricName"] for m in failed if "MetricStat" in m}
    assert watched == {"ExecutionsFailed", "ExecutionsTimedOut"}


def _emitted_metrics() -> set[str]:
    """Every metric name the functions emit (put_metric, count; videobot/observability.py)."""
    names = set()
    for path in (ROOT / "functions").rglob("*.py"):
        names |= set(re.findall(r'\b(?:put_metric|count)\(\s*"([A-Za-z]+)"', path.read_text(encoding="utf-8")))
    return names


def _dashboard(resources) -> dict:
    body = resources["OperatorDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(re.sub(r"\$\{[A-Za-z:]+\}", "placeholder", body))


def test_the_operators_dashboard_shows_what_the_code_emits(template, resources):
    from videobot.observability import SERVICE

    dashboard = _dashboard(resources)
    emitted = _emitted_metrics()
    assert {"StageDuration", "VendorCallErrors", "JobsStarted", "JobsEnded", "VendorSpendUsd"} <= emitted
    namespace = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    panels = {}
    for widget in dashboard["widgets"]:
        props = widget["properties"]
        shown = []
        for line in props["metrics"]:
            if "expression" in line[0]:  # SEARCH('{Namespace,dims} MetricName="X" ...', stat, period)
                search = line[0]["expression"]
                assert search.startswith(f"SEARCH('{{{namespace},"), search
                shown += [(namespace, name) for name in re.findall(r'MetricName="([A-Za-z]+)"', search)]
                continue
            metric_namespace, name, *dims = [part for part in line if isinstance(part, str)]
            shown.append((metric_namespace, name))
            if metric_namespace == namespace:
                assert dict(zip(dims[::2], dims[1::2], strict=True))["service"] == SERVICE
        for metric_namespace, name in shown:
            if metric_namespace == namespace:
                assert name in emitted, f"the dashboard shows {name}, which no function emits"
            else:
                assert metric_namespace in {"AWS/ApiGateway", "AWS/Lambda", "AWS/States"}, metric_namespace
        panels[props["title"]] = {name for _, name in shown}

    def panel(words: str) -> set[str]:
        (found,) = [names for title, names in panels.items() if words in title]
        return found

    assert panel("Jobs:") == {"JobsStarted", "JobsEnded"}
    outcomes = {line[5] for w in dashboard["widgets"] for line in w["properties"]["metrics"] if "JobsEnded" in line}
    assert outcomes == {"delivered", "cancelled", "timed_out", "failed"}
    assert panel("USD spent per day, by vendor") == {"VendorSpendUsd"}
    assert panel("p50") == panel("p95") == {"StageDuration"}
    assert panel("Vendor errors") == {"VendorCallErrors", "StageDuration"}
    assert panel("Runway's queue") == {"RunwayTasksQueued", "RunwayQueueSeconds"}
    assert "Latency" in panel("Webhook latency")
    url = template["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]
    assert url.startswith("https://") and "#dashboards:name=${OperatorDashboard}" in url


def test_no_tracing_but_powertools_metrics_and_execution_logs(template, resources):
    # No code emits traces (no Powertools Tracer), so neither the functions nor the state
    # machine turn X-Ray on, and nothing is granted X-Ray actions. Metrics are EMF in the logs.
    assert "Tracing" not in template["Globals"]["Function"]
    for name, res in {
        **of_type(resources, "AWS::Serverless::Function"),
        **of_type(resources, "AWS::Serverless::StateMachine"),
    }.items():
        assert "Tracing" not in res["Properties"], name
        assert not [
            a for s in _statements(res["Properties"].get("Policies", [])) for a in s["Action"] if a.startswith("xray:")
        ], name
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] and env["POWERTOOLS_METRICS_NAMESPACE"]
    props = machine_props(resources)
    assert props["Type"] == "STANDARD"  # .waitForTaskToken needs it
    assert props["Logging"]["Level"] in {"ERROR", "ALL"}


def test_media_bucket_is_private_encrypted_and_expires_media(template, resources):
    props = resources["MediaBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-job-media"]["Prefix"] == "jobs/"  # videobot.storage.job_prefix
    assert rules["expire-job-media"]["ExpirationInDays"] == {"Ref": "MediaRetentionDays"}
    assert int(template["Globals"]["Function"]["Environment"]["Variables"]["PRESIGN_SECONDS"]) <= 3600


def test_keys_are_secrets_never_plain_environment(template, resources):
    params = template["Parameters"]
    for key in ("TelegramBotToken", "OpenAIApiKey", "RunwayApiSecret", "ExistingDatabaseUrl"):
        assert params[key]["NoEcho"] is True
        assert params[key].get("Default", "") == ""
    plain = {"TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "OPENAI_API_KEY", "RUNWAYML_API_SECRET", "DATABASE_URL"}
    env_names = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for res in of_type(resources, "AWS::Serverless::Function").values():
        env_names |= set(res["Properties"].get("Environment", {}).get("Variables", {}))
    assert env_names & plain == set()
    assert {f"{name}_SECRET_ARN" for name in plain} | {"DATABASE_SECRET_ARN"} <= env_names
    # one secret per vendor key, each holding one parameter
    for secret, parameter in {
        "TelegramBotTokenSecret": "TelegramBotToken",
        "OpenAIApiKeySecret": "OpenAIApiKey",
        "RunwayApiSecretSecret": "RunwayApiSecret",
        "DatabaseUrlSecret": "ExistingDatabaseUrl",
    }.items():
        assert resources[secret]["Properties"]["SecretString"] == {"Ref": parameter}, secret
    assert resources["DatabaseUrlSecret"]["Condition"] == "UseExistingDatabase"
    generated = resources["WebhookSecret"]["Properties"]["GenerateSecretString"]
    assert generated["ExcludePunctuation"] is True  # Telegram allows A-Z a-z 0-9 _ - only
    assert 1 <= generated["PasswordLength"] <= 256


def test_database_is_private_and_optional(template, resources):
    assert template["Conditions"]["CreateDatabase"] == {"Fn::Equals": [{"Ref": "ExistingDatabaseUrl"}, ""]}
    for name in ("Network", "Database"):
        assert resources[name]["Condition"] == "CreateDatabase"
    db = tpl.load_template(ROOT / "infra" / "database.yaml")["Resources"]["Instance"]
    assert db["Properties"]["PubliclyAccessible"] is False
    assert db["Properties"]["StorageEncrypted"] is True
    assert "{{resolve:secretsmanager:${Secret}" in db["Properties"]["MasterUserPassword"]["Fn::Sub"]
    assert db["DeletionPolicy"] == "Snapshot"
    network = tpl.load_template(ROOT / "infra" / "network.yaml")["Resources"]
    assert of_type(network, "AWS::EC2::NatGateway")
    assert network["S3Endpoint"]["Properties"]["VpcEndpointType"] == "Gateway"


def test_the_database_names_only_the_major_engine_version():
    # RDS retires minor versions (creating 17.1-17.4 was blocked from 2026-05-01): a pinned
    # minor stops fresh deploys on that day. A major version lets RDS pick its default minor.
    database = tpl.load_template(ROOT / "infra" / "database.yaml")
    version = database["Parameters"]["EngineVersion"]
    assert re.fullmatch(r"[0-9]+", version["Default"]), version["Default"]
    assert re.fullmatch(version["AllowedPattern"], "17") and not re.fullmatch(version["AllowedPattern"], "17.9")
    instance = database["Resources"]["Instance"]["Properties"]
    assert instance["EngineVersion"] == {"Ref": "EngineVersion"} and instance["AutoMinorVersionUpgrade"] is True


def test_migrations_run_on_every_code_change(resources):
    custom = resources["DatabaseMigrations"]["Properties"]
    assert custom["ServiceToken"] == {"Fn::GetAtt": ["MigrateDatabaseFunction", "Arn"]}
    assert custom["CodeVersion"] == {"Ref": "MigrateDatabaseFunction.Version"}
    assert resources["MigrateDatabaseFunction"]["Properties"]["AutoPublishAlias"]


def test_cloudformation_waits_for_the_migrations_minutes_not_an_hour(resources):
    # CloudFormation waits for a custom resource's answer up to ServiceTimeout (default 3600 s).
    # The function answers within its Timeout (the migrations stop ANSWER_RESERVE_SECONDS
    # before it); ServiceTimeout covers that and a little more, for a function that died unanswered.
    from videobot.deploy_hooks import ANSWER_RESERVE_SECONDS

    timeout = resources["MigrateDatabaseFunction"]["Properties"]["Timeout"]
    service_timeout = resources["DatabaseMigrations"]["Properties"]["ServiceTimeout"]
    assert timeout < service_timeout <= timeout + 120
    assert timeout / 4 > ANSWER_RESERVE_SECONDS


def test_webhook_route_and_outputs(template, resources):
    event = resources["WebhookFunction"]["Properties"]["Events"]["Telegram"]
    assert event["Type"] == "HttpApi" and event["Properties"]["Method"] == "POST"
    outputs = template["Outputs"]
    assert event["Properties"]["Path"] in outputs["WebhookUrl"]["Value"]["Fn::Sub"]
    assert {"WebhookUrl", "StateMachineArn", "MediaBucketName", "TelegramBotTokenSecretArn", "WebhookSecretArn"} <= set(
        outputs
    )
    env = resources["WebhookFunction"]["Properties"]["Environment"]["Variables"]
    assert env["STATE_MACHINE_ARN"] == {"Ref": "VideoPipelineStateMachine"}


def test_the_deploy_guide_counts_what_the_template_creates(template, resources):
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    functions = of_type(resources, "AWS::Serverless::Function")
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    errors_alarms = [a for a in alarms.values() if a["Properties"].get("MetricName") == "Errors"]
    invoked = _invoked_functions(resources)
    assert f"**{len(functions)} functions** and **{len(alarms)} alarms**" in guide
    # every count of functions is the template's, or the state machine's share of them
    assert {int(n) for n in re.findall(r"\b(\d+) functions\b", guide)} <= {len(functions), len(invoked)}
    assert {int(n) for n in re.findall(r"\b(\d+) `Errors` alarms\b", guide)} == {len(errors_alarms)}
    assert {int(n) for n in re.findall(r"\b(\d+) function alarms\b", guide)} == {len(errors_alarms)}
    assert {int(n) for n in re.findall(r"\beach of the (\d+) functions (?:it names|they name)\b", guide)} == {
        len(invoked)
    }
    # who holds which key
    by_vendor = {
        vendor: sum(bool(needs.CODE_NEEDS[name] & capabilities) for name in functions)
        for vendor, capabilities in {
            "Telegram": {"telegram"},
            "OpenAI": {"llm", "transcription"},
            "Runway": {"images", "clips"},
        }.items()
    }
    for vendor, count in by_vendor.items():
        assert re.search(rf"{vendor} for the {count} that", guide), (vendor, count)
    secrets = of_type(resources, "AWS::SecretsManager::Secret")
    assert f"Secrets Manager, {len(secrets)} secrets" in guide  # one of them per database choice
    assert "DashboardUrl" in guide and "DashboardUrl" in template["Outputs"]


def test_samconfig_has_dev_default_and_prod():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    for env in ("default", "prod"):
        assert config[env]["build"]["parameters"] == {"cached": True, "parallel": True}
        assert config[env]["validate"]["parameters"]["lint"] is True
        assert "CAPABILITY_AUTO_EXPAND" in config[env]["deploy"]["parameters"]["capabilities"]
    assert config["default"]["global"]["parameters"]["stack_name"].endswith("-dev")
    assert config["prod"]["global"]["parameters"]["stack_name"].endswith("-prod")


def test_polly_is_allowed_only_where_the_narration_is_recorded(template, resources):
    def polly_actions(res) -> set[str]:
        return {a for s in _statements(res["Properties"]["Policies"]) for a in s["Action"] if a.startswith("polly:")}

    functions = of_type(resources, "AWS::Serverless::Function")
    assert polly_actions(functions["RecordVoiceoverFunction"]) == {"polly:SynthesizeSpeech"}
    assert all(not polly_actions(res) for name, res in functions.items() if name != "RecordVoiceoverFunction")
    env = functions["RecordVoiceoverFunction"]["Properties"]["Environment"]["Variables"]
    assert env["TTS_PROVIDER"] == {"Ref": "TtsProvider"}
    assert template["Parameters"]["TtsProvider"]["AllowedValues"] == ["openai", "polly"]


def test_the_maps_concurrency_follows_the_runway_tier_parameter(template):
    """RunwayConcurrency (default 2: Runway's tier 1 runs 1-2 generations at once) reaches
    RUNWAY_CONCURRENCY, which bounds settings.max_concurrency, the Maps' MaxConcurrencyPath."""
    param = template["Parameters"]["RunwayConcurrency"]
    assert param["Default"] == 2 and param["MinValue"] == 1
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["RUNWAY_CONCURRENCY"] == {"Ref": "RunwayConcurrency"}
    assert env["MAP_MAX_CONCURRENCY"] == {"Ref": "MapMaxConcurrency"}


def test_runways_daily_generation_cap_is_a_parameter_with_the_settings_default(template):
    """RunwayDailyGenerations (the tier's "max gens/day" per model) reaches every function as
    RUNWAY_DAILY_GENERATIONS, with the settings' own default: a deploy on another tier changes a
    parameter, not the code."""
    param = template["Parameters"]["RunwayDailyGenerations"]
    assert param["Type"] == "Number" and param["MinValue"] == 0
    assert param["Default"] == Settings().runway.daily_generations == 50
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["RUNWAY_DAILY_GENERATIONS"] == {"Ref": "RunwayDailyGenerations"}
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    assert any("RunwayDailyGenerations" in g["Parameters"] for g in groups)
    # infra/asl.py writes each kind of media's states and every Retry from the pipeline's
    # vocabulary and the named policies; `make lint` runs the same check (python -m infra.asl --check)
    from infra import asl

    written = asl.generated()
    assert set(written) == set(MACHINES.values())
    for path, text in written.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name}: run `python -m infra.asl`"
