"""What each function's code calls, read from the code: the bridge between the template and the
code. tests/unit/test_template.py checks every function's environment and policies against it
(each provider set, each key granted, nothing more); tests/integration's `recorded_needs`
fixture records what each function really reaches while the integration tests run it through
the local Lambda endpoint, and fails a test whose run reaches something not listed here.

Capabilities and the runtime parts that reach them (videobot.runtime):
- telegram: the notifier (the pipeline's messages), the chat's files, the bot itself
- llm, images, clips, speech, transcription: the providers (OpenAI, Runway, Polly)
- step_functions: starting executions and answering gates; lambda: handing slow work over"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable

CODE_NEEDS: dict[str, set[str]] = {
    # the bot's replies; a cancel between gates ends the job here (lifecycle.cancel_job stops its
    # Runway tasks and tells the user); jobs priced with Runway's estimates (telegram/estimates.py);
    # executions started, gates answered; slow work handed to HandleSlowUpdateFunction
    "WebhookFunction": {"telegram", "images", "clips", "step_functions", "lambda"},
    # a voice note at a gate (telegram/voice.py): downloaded, transcribed, taken as feedback
    # (a redo's estimate, the gate's answer) or, the gate closed meanwhile, a new topic (the
    # job's estimate, StartExecution); /history's resend
    "HandleSlowUpdateFunction": {"telegram", "transcription", "images", "clips", "step_functions"},
    "TranscribeVoiceTopicFunction": {"telegram", "transcription"},  # getFile, "🎙 Распознано"
    "GenerateScriptFunction": {"llm"},
    "RequestApprovalFunction": {"telegram"},
    # ReviseScript; RedoImages/RedoClips clear rows and reserve the redone tasks in the spend
    # ledger (Runway's prices and daily cap: the providers' estimates, no vendor call)
    "ReviseStageFunction": {"llm", "images", "clips"},
    "SplitIntoSegmentsFunction": set(),
    # the prompts, then the Map's tasks reserved before it starts (the provider's estimate)
    "WriteImagePromptsFunction": {"llm", "images"},
    "WriteAnimationPromptsFunction": {"llm", "clips"},
    # a submit polls once at once: progress and "queued at Runway" (stages/vendor_tasks.py)
    "SubmitImageFunction": {"images", "telegram"},
    "CheckImageFunction": {"images", "telegram"},
    "SubmitClipFunction": {"clips", "telegram"},
    "CheckClipFunction": {"clips", "telegram"},
    # the narration, its progress; the parts too long for their segment rewritten shorter
    "RecordVoiceoverFunction": {"speech", "llm", "telegram"},
    "AssembleVideoFunction": {"telegram"},  # its progress
    "DeliverVideoFunction": {"telegram"},
    # the ends of a job: lifecycle.stop_vendor_tasks stops its Runway tasks, and the user is told
    "CancelJobFunction": {"telegram", "images", "clips"},
    "RecordApprovalTimeoutFunction": {"telegram"},
    "RecordFailureFunction": {"telegram", "images", "clips"},
    "ReconcileExecutionFunction": {"telegram", "images", "clips"},
    "MigrateDatabaseFunction": set(),
}

# The provider setting each capability needs set (not "none"), and the key that provider needs.
PROVIDER_OF = {
    "telegram": "NOTIFIER_PROVIDER",
    "llm": "LLM_PROVIDER",
    "images": "IMAGE_PROVIDER",
    "clips": "VIDEO_PROVIDER",
    "speech": "TTS_PROVIDER",
    "transcription": "TRANSCRIBE_PROVIDER",
}

CAPABILITY_OF_PART = {
    "notifier": "telegram",
    "chat_files": "telegram",
    "llm": "llm",
    "images": "images",
    "clips": "clips",
    "speech": "speech",
    "transcriber": "transcription",
    "sfn": "step_functions",
    "lambdas": "lambda",
}

_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("function", default=None)


class NeedsRecorder:
    """Records (function, capability) for every runtime part reached inside an invocation of the
    local Lambda endpoint. The function is a context variable set around the handler, so the
    threads asyncio starts for it (asyncio.run, to_thread) carry it too."""

    def __init__(self):
        self.seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def wrap(self, name: str, handler: Callable) -> Callable:
        if getattr(handler, "records_needs", False):
            return handler

        def run(event, context=None):
            token = _function.set(name)
            try:
                return handler(event, context)
            finally:
                _function.reset(token)

        run.records_needs = True
        run.__wrapped__ = handler
        return run

    def note(self, part: str) -> None:
        function = _function.get()
        if function is not None and part in CAPABILITY_OF_PART:
            with self._lock:
                self.seen.add((function, CAPABILITY_OF_PART[part]))

    def take(self) -> set[tuple[str, str]]:
        with self._lock:
            seen, self.seen = self.seen, set()
        return seen


def unlisted(seen: set[tuple[str, str]]) -> list[str]:
    """What a function reached that CODE_NEEDS (so the template) does not give it."""
    return sorted(
        f"{function} reached {capability}"
        for function, capability in seen
        if capability not in CODE_NEEDS.get(function, set())
    )


# ---- Each function's environment as CloudFormation sets it (Globals, then its own) ------------

# The template's secrets and the one setting each holds (videobot.secrets: <NAME>_SECRET_ARN).
SECRET_SETTINGS = {
    "TelegramBotTokenSecret": "TELEGRAM_BOT_TOKEN",
    "OpenAIApiKeySecret": "OPENAI_API_KEY",
    "RunwayApiSecretSecret": "RUNWAYML_API_SECRET",
    "WebhookSecret": "TELEGRAM_WEBHOOK_SECRET",
    "DatabaseUrlSecret": "DATABASE_URL",
}
NO_VALUE = object()


def conditions(template: dict, params: dict) -> dict[str, bool]:
    """The template's Conditions, evaluated with these parameter values."""
    done: dict[str, bool] = {}

    def value(node):
        if isinstance(node, dict) and "Ref" in node:
            return params[node["Ref"]]
        if isinstance(node, dict) and "Condition" in node:
            return evaluate(node["Condition"])
        if isinstance(node, dict) and "Fn::Equals" in node:
            a, b = node["Fn::Equals"]
            return value(a) == value(b)
        if isinstance(node, dict) and "Fn::Not" in node:
            return not value(node["Fn::Not"][0])
        return node

    def evaluate(name: str) -> bool:
        if name not in done:
            done[name] = bool(value(template["Conditions"][name]))
        return done[name]

    for name in template["Conditions"]:
        evaluate(name)
    return done


def parameters(template: dict, **chosen) -> dict:
    """The parameter values of a deploy: the defaults, with `chosen` ones."""
    values = {name: p.get("Default") for name, p in template["Parameters"].items()}
    return {**values, **chosen}


def resolve(node, params: dict, conds: dict[str, bool]):
    """A property's value on this deploy: parameters substituted, Fn::If decided, AWS::NoValue
    dropped; a resource's Ref is its logical id, a GetAtt "Resource.Attribute"."""
    if isinstance(node, list):
        return [v for v in (resolve(n, params, conds) for n in node) if v is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if "Ref" in node:
        name = node["Ref"]
        if name == "AWS::NoValue":
            return NO_VALUE
        return params.get(name, name)
    if "Fn::If" in node:
        name, yes, no = node["Fn::If"]
        return resolve(yes if conds[name] else no, params, conds)
    if "Fn::GetAtt" in node:
        target = node["Fn::GetAtt"]
        return ".".join(target) if isinstance(target, list) else target
    if set(node) & {"Fn::Sub", "Fn::Join", "Fn::Split", "Fn::Select"}:
        return node  # not needed by these checks
    return {k: v for k, v in ((k, resolve(v, params, conds)) for k, v in node.items()) if v is not NO_VALUE}


def function_environment(template: dict, name: str, params: dict | None = None) -> dict:
    """The function's environment: Globals, then its own Variables (SAM merges them so)."""
    params = params or parameters(template)
    conds = conditions(template, params)
    merged = {
        **template["Globals"]["Function"].get("Environment", {}).get("Variables", {}),
        **template["Resources"][name]["Properties"].get("Environment", {}).get("Variables", {}),
    }
    env = {key: resolve(value, params, conds) for key, value in merged.items()}
    return {key: value for key, value in env.items() if value is not NO_VALUE and value is not None}


def startup_environment(env: dict) -> dict[str, str]:
    """What videobot.config starts from on AWS: each secret the environment names read into its
    setting (a stand-in value), every other value a string."""
    plain = {}
    for key, value in env.items():
        if key.endswith("_SECRET_ARN") and value in SECRET_SETTINGS:
            plain[SECRET_SETTINGS[value]] = f"from-{value}"
        elif key == "DATABASE_SECRET_ARN":
            plain["DATABASE_URL"] = "postgresql://from-the-rds-secret@db/videobot?sslmode=require"
        elif isinstance(value, str | int | float):
            plain[key] = str(value)
    return plain
