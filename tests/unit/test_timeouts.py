"""Every function's worst case fits inside its Lambda Timeout, with a margin: computed from the
client figures in functions/videobot/config.py (each function's own, with its template.yaml
Environment applied) and the Timeouts in template.yaml.

The model, per client call (all figures from config.py):
- Telegram (videobot/telegram/bot.py): `telegram_attempts` tries of connect + read (an upload:
  connect + media write), and between tries the longer of 0.5 s × n and the longest 429
  retry_after that is waited out (`telegram_max_retry_after_seconds`).
- A Telegram file download (getFile's file, ≤ max_voice_bytes): one call plus the file at
  MIN_DOWNLOAD_BYTES_PER_SECOND (httpx bounds each read, not the whole body).
- OpenAI and Runway (their SDKs): 1 + max_retries tries of the request timeout, and the SDKs'
  backoff, at most SDK_MAX_BACKOFF_SECONDS between tries.
- Step Functions and Lambda (botocore, standard mode): `aws_client_attempts` tries of connect +
  read, with at most min(20, 2^n) s between them.
- PostgreSQL: a wait for a free connection of the pool (`checkout_timeout_seconds`), then one
  connection opened (`connect_timeout_seconds`); queries are short.
- Stopping a job's Runway tasks: at most `stop_tasks_seconds` (lifecycle.stop_vendor_tasks).
- A Submit function's create: bounded by the time its Lambda has left (its context).

Each function is mapped to the calls its worst path makes one after another (WORST_PATHS; the
webhook has one path per kind of update). A function that is not mapped fails the test, so a
new function must say what it calls."""

from __future__ import annotations

import math

import pytest

from local import template as tpl
from tests import function_needs as needs
from videobot import config
from videobot.config import Settings

MARGIN = 0.9  # the worst case stays under 90 % of the Timeout
SDK_MAX_BACKOFF_SECONDS = 8.0  # openai / runwayml: min(0.5 × 2^n, 8) s (× jitter ≤ 1)
MIN_DOWNLOAD_BYTES_PER_SECOND = 1_000_000
BOTOCORE_MAX_BACKOFF_SECONDS = 20.0


def telegram(s: Settings) -> float:
    a = s.telegram.attempts
    between = max(s.telegram.max_retry_after_seconds, 0.5 * (a - 1))
    return a * (s.telegram.connect_timeout_seconds + s.telegram.read_timeout_seconds) + (a - 1) * between


def telegram_upload(s: Settings) -> float:
    a = s.telegram.attempts
    between = max(s.telegram.max_retry_after_seconds, 0.5 * (a - 1))
    return a * (s.telegram.connect_timeout_seconds + s.telegram.media_write_timeout_seconds) + (a - 1) * between


def telegram_file(s: Settings) -> float:
    return telegram(s) + s.telegram.max_voice_bytes / MIN_DOWNLOAD_BYTES_PER_SECOND


def openai(s: Settings) -> float:
    return (1 + s.openai.max_retries) * s.openai.timeout_seconds + s.openai.max_retries * SDK_MAX_BACKOFF_SECONDS


def runway(s: Settings) -> float:
    return (1 + s.runway.max_retries) * s.runway.timeout_seconds + s.runway.max_retries * SDK_MAX_BACKOFF_SECONDS


def aws(s: Settings) -> float:
    a = s.aws.client_attempts
    sleeps = sum(min(BOTOCORE_MAX_BACKOFF_SECONDS, 2.0**n) for n in range(1, a))
    return a * (s.aws.connect_timeout_seconds + s.aws.read_timeout_seconds) + sleeps


def aws_decision(s: Settings) -> float:
    """A SendTask* or StopExecution (videobot.control.call_step_functions): `throttle_attempts`
    calls, full-jitter backoff of at most 0.5 s × 2^(n-1) between them."""
    a = s.aws.throttle_attempts
    return a * aws(s) + sum(0.5 * 2.0 ** (n - 1) for n in range(1, a))


def database(s: Settings) -> float:
    return s.database.checkout_timeout_seconds + s.database.connect_timeout_seconds


def stop_tasks(s: Settings) -> float:
    """lifecycle.stop_vendor_tasks: one-try cancels, each started only while it fits the budget."""
    return float(s.pipeline.stop_tasks_seconds)


CLIENTS = {
    "telegram": telegram,
    "telegram_upload": telegram_upload,
    "telegram_file": telegram_file,
    "openai": openai,
    "runway": runway,
    "aws": aws,
    "aws_decision": aws_decision,
    "database": database,
    "stop_tasks": stop_tasks,
}

# function -> {path: {client: calls one after another}}
WORST_PATHS: dict[str, dict[str, dict[str, int]]] = {
    "WebhookFunction": {
        # a topic (typed or voice): the reply, StartExecution and, if it failed, DescribeExecution
        # and the "could not start" message
        "topic": {"database": 1, "aws": 2, "telegram": 2},
        # a tap: answerCallbackQuery, the decision's SendTask*, the reply and a button edit
        "tap": {"database": 1, "aws_decision": 1, "telegram": 3},
        # /history's button or a voice note at a gate: the answer, then the worker's Invoke (Event)
        "hand_over": {"database": 1, "aws": 1, "telegram": 2},
        # a typed feedback at a gate: SendTaskSuccess with the revision, and the reply
        "feedback": {"database": 1, "aws_decision": 1, "telegram": 2},
    },
    "HandleSlowUpdateFunction": {
        "resend_video": {"database": 1, "telegram_upload": 1, "telegram": 1},
        "voice_feedback": {"database": 1, "telegram_file": 1, "openai": 1, "aws_decision": 1, "telegram": 3},
    },
    "TranscribeVoiceTopicFunction": {"stage": {"database": 1, "telegram_file": 1, "openai": 1, "telegram": 1}},
    # the script and its one re-ask when it breaks the rules (providers/openai_llm.py)
    "GenerateScriptFunction": {"stage": {"database": 1, "openai": 2}},
    "ReviseStageFunction": {
        "script": {"database": 1, "openai": 2},
        "segment": {"database": 1, "openai": 1, "telegram": 1},
    },
    "RequestApprovalFunction": {"gate": {"database": 1, "telegram": 3}},  # album, question, an edit
    "SplitIntoSegmentsFunction": {"stage": {"database": 1}},
    "WriteImagePromptsFunction": {"stage": {"database": 1, "openai": 2}},
    "WriteAnimationPromptsFunction": {"stage": {"database": 1, "openai": 2}},
    "CheckImageFunction": {"stage": {"database": 1, "runway": 1, "telegram": 1}},
    "CheckClipFunction": {"stage": {"database": 1, "runway": 1, "telegram": 1}},
    "DeliverVideoFunction": {"stage": {"database": 1, "telegram_upload": 1, "telegram": 1}},
    "CancelJobFunction": {"stage": {"database": 1, "stop_tasks": 1, "telegram": 1}},
    "RecordFailureFunction": {"stage": {"database": 1, "stop_tasks": 1, "telegram": 1}},
    "RecordApprovalTimeoutFunction": {"stage": {"database": 1, "telegram": 1}},
    "ReconcileExecutionFunction": {"stage": {"database": 1, "stop_tasks": 1, "telegram": 1}},
    "MigrateDatabaseFunction": {"deploy": {"database": 1}},
}

# A Submit* function bounds its own create by the time its Lambda has left (its context's
# get_remaining_time_in_millis): a create starts only while a whole request timeout fits before
# that, less submit_reserve_seconds (providers/runway.py); the reserve keeps the id's UPDATE.
SUBMITS = ("SubmitImageFunction", "SubmitClipFunction")

# Not modelled from client figures: their time is their media work, measured by the benchmarks
# (docs/benchmarks.md), not a count of bounded client calls.
MEDIA_BOUND = {
    "RecordVoiceoverFunction": "ten narration parts over the Realtime WebSocket (no per-session timeout in "
    "the SDK), up to NARRATION_REWRITE_ROUNDS rewrites of the parts too long (one LLM call each, then "
    "those parts spoken again) and FFmpeg fitting",
    "AssembleVideoFunction": "FFmpeg over ten clips, the narration and the music",
}


def _template():
    return tpl.load_template()


def settings_of(template: dict, name: str) -> Settings:
    """The settings the function runs with: config.py's defaults, the Globals' and the
    function's own Environment, its secrets read (tests/function_needs.py)."""
    return config.settings_from_environ(needs.startup_environment(needs.function_environment(template, name)))


def worst_case(template: dict, name: str) -> tuple[float, str]:
    s = settings_of(template, name)
    costs = {
        path: sum(CLIENTS[client](s) * n for client, n in calls.items()) for path, calls in WORST_PATHS[name].items()
    }
    path = max(costs, key=costs.get)
    return costs[path], path


def test_every_function_says_what_it_calls():
    functions = set(tpl.functions(_template()))
    assert functions == set(WORST_PATHS) | set(SUBMITS) | set(MEDIA_BOUND)
    assert not set(WORST_PATHS) & set(MEDIA_BOUND)


@pytest.mark.parametrize("name", sorted(WORST_PATHS))
def test_the_worst_case_fits_inside_the_lambda_timeout(name):
    template = _template()
    timeout = tpl.function_timeouts(template)[name]
    worst, path = worst_case(template, name)
    assert worst <= MARGIN * timeout, f"{name}: {path} takes up to {worst:.0f} s, its Timeout is {timeout:.0f} s"


def test_the_webhook_fits_its_29_seconds_with_the_slow_work_gone():
    template = _template()
    assert tpl.function_timeouts(template)["WebhookFunction"] == 29  # API Gateway's own limit is 30 s
    s = settings_of(template, "WebhookFunction")
    # no download, no transcription, no upload on any of its paths
    assert all(
        not {"openai", "runway", "telegram_file", "telegram_upload"} & set(calls)
        for calls in WORST_PATHS["WebhookFunction"].values()
    )
    assert s.telegram.attempts == 1  # Telegram redelivers an update answered with a 5xx: its retry
    worst, _ = worst_case(template, "WebhookFunction")
    assert worst <= MARGIN * 29
    # the same paths with the pipeline's figures would not fit: the tighter ones are needed
    pipeline = config.settings_from_environ({})
    assert sum(CLIENTS[c](pipeline) * n for c, n in WORST_PATHS["WebhookFunction"]["tap"].items()) > 29


@pytest.mark.parametrize("name", SUBMITS)
def test_a_submit_bounds_its_create_by_the_time_its_lambda_has_left(name):
    template = _template()
    s = settings_of(template, name)
    timeout = tpl.function_timeouts(template)[name]
    # a whole Runway request still fits after the reserve, and the reserve covers the id's UPDATE
    assert s.runway.timeout_seconds <= timeout - s.pipeline.submit_reserve_seconds
    assert database(s) <= s.pipeline.submit_reserve_seconds


def test_the_local_endpoint_gives_a_handler_the_time_its_function_has_left():
    """The Lambda context locally is AWS's: the remaining time of the function's own Timeout."""
    import time

    from local.lambda_endpoint import LambdaContext
    from videobot.entry import deadline

    context = LambdaContext("SubmitClipFunction", timeout_s=tpl.function_timeouts(_template())["SubmitClipFunction"])
    assert 119_000 < context.get_remaining_time_in_millis() <= 120_000
    assert deadline(context) == pytest.approx(time.monotonic() + 120, abs=1) and deadline(None) is None


def test_the_client_figures_are_the_ones_the_code_uses(rt):
    """What the model reads is what the clients get."""
    from videobot.telegram.bot import make_bot

    rt = rt.with_env(TELEGRAM_BOT_TOKEN="123:abc", TELEGRAM_READ_TIMEOUT_SECONDS="4", AWS_CLIENT_ATTEMPTS="2")
    request = make_bot(rt.settings)._request[1]
    assert request._client_kwargs["timeout"].read == 4
    sfn_config = rt.sfn.meta.config
    assert sfn_config.read_timeout == rt.settings.aws.read_timeout_seconds
    assert sfn_config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert rt.lambdas.meta.config.connect_timeout == rt.settings.aws.connect_timeout_seconds
    one_try = config.settings_from_environ({"TELEGRAM_ATTEMPTS": "1"})
    assert math.isclose(telegram(one_try), 3.0 + 7.0)  # one try: connect + read
