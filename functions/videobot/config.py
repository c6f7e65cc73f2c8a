"""Configuration, read from the environment once and validated (pydantic), grouped by concern
(storage, database, providers, pipeline, openai, runway, polly, aws, telegram, limits,
assembly). Each setting keeps its environment variable's name (template.yaml, .env)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from videobot.errors import ConfigurationError
from videobot.pipeline import POLL_ATTEMPTS_LIMIT, ExecutionSettings

TELEGRAM_UPLOAD_LIMIT_BYTES = 50_000_000  # sendVideo by multipart upload
# The seed's 10 segments of 5 s. Not a setting: the schema's CHECK (segment_index 0-9), the
# LLM's structured output and the 50-second video all hold it.
SEGMENT_COUNT = 10


@dataclass(frozen=True)
class Model:
    """A vendor model the project knows: what it does, and when the vendor shuts it down."""

    name: str
    capability: str  # llm, speech, realtime_speech, transcription, image, video
    shuts_down: date | None = None
    replacement: str | None = None


# The models the settings may name, with the shutdown dates the vendors announced: OpenAI's
# deprecations page and the "Announced shutdown date" of the openai SDK's model lists (3.51);
# Runway has announced none for these (its API reference and runwayml 5.24). Checked 2026-12-04;
# the sources are in the README's vendor section, and tests/fakes/openai_api.py SHUTDOWNS must
# agree (tests/unit/test_model_catalogue.py). An unknown or already retired model is refused at
# start-up; one with an announced shutdown date is logged as a warning at every start-up until it
# is replaced. A replacement is a current model of the catalogue.
MODELS = {
    m.name: m
    for m in (
        Model("gpt-5.4-mini", "llm"),
        Model("gpt-4.1-mini", "llm", date(2027, 1, 14), "gpt-5.4-mini"),
        Model("gpt-4o-mini", "llm", date(2027, 1, 14), "gpt-5.4-mini"),
        Model("gpt-5", "llm", date(2026, 12, 11), "gpt-5.4-mini"),
        Model("gpt-5-mini", "llm", date(2026, 12, 11), "gpt-5.4-mini"),
        Model("gpt-5-nano", "llm", date(2026, 12, 11), "gpt-5.4-mini"),
        Model("gpt-4o-mini-tts", "speech", date(2027, 1, 6), "gpt-realtime-2.1-mini"),
        Model("tts-1", "speech", date(2027, 1, 6), "gpt-realtime-2.1-mini"),
        Model("tts-1-hd", "speech", date(2027, 1, 6), "gpt-realtime-2.1-mini"),
        Model("gpt-realtime-2.1-mini", "realtime_speech"),
        Model("gpt-realtime", "realtime_speech", date(2027, 1, 20), "gpt-realtime-2.1-mini"),
        Model("gpt-realtime-mini", "realtime_speech", date(2027, 1, 20), "gpt-realtime-2.1-mini"),
        Model("gpt-transcribe", "transcription"),
        Model("gpt-4o-mini-transcribe", "transcription", date(2027, 2, 26), "gpt-transcribe"),
        Model("gpt-4o-transcribe", "transcription", date(2027, 2, 26), "gpt-transcribe"),
        Model("whisper-1", "transcription", date(2027, 2, 26), "gpt-transcribe"),
        Model("gen4_image", "image"),
        Model("gen4_image_turbo", "image"),  # needs reference images: segments 1-9 only
        Model("gen4_turbo", "video"),
        Model("gen4.5", "video"),
        Model("veo3.1_fast", "video"),
    )
}
# The Polly voices the bot offers: the language each speaks and the engines Polly runs it on (Polly's
# voice list, docs.aws.amazon.com/polly/latest/dg/available-voices.html, and DescribeVoices'
# SupportedEngines; checked 2026-12-04). Polly has no neural Russian voice.
POLLY_VOICES = {
    "Tatyana": ("ru", ("standard",)),
    "Maxim": ("ru", ("standard",)),
    "Joanna": ("en", ("neural", "standard")),
    "Matthew": ("en", ("generative", "neural", "standard")),
}

# Each model setting (by its environment name), the capability its model must have, and where
# the settings hold it.
MODEL_SETTINGS: dict[str, tuple[str, Callable[[Settings], str]]] = {
    "OPENAI_MODEL": ("llm", lambda s: s.openai.model),
    "OPENAI_TTS_MODEL": ("realtime_speech", lambda s: s.openai.tts_model),
    "OPENAI_TRANSCRIBE_MODEL": ("transcription", lambda s: s.openai.transcribe_model),
    "RUNWAY_IMAGE_MODEL": ("image", lambda s: s.runway.image_model),
    "RUNWAY_REFERENCE_IMAGE_MODEL": ("image", lambda s: s.runway.reference_image_model),
    "RUNWAY_VIDEO_MODEL": ("video", lambda s: s.runway.video_model),
}


def today() -> date:
    return datetime.now(UTC).date()


def check_models(settings: Settings, on: date | None = None) -> list[str]:
    """Refuse (ConfigurationError) a model setting that names an unknown model, a model of
    another capability, or one already shut down; return a warning for each active model with
    an announced shutdown date."""
    on = on or today()
    active = settings.active_model_settings()
    warnings = []
    for setting, (capability, value_of) in MODEL_SETTINGS.items():
        name = value_of(settings)
        model = MODELS.get(name)
        if model is None or model.capability != capability:
            known = ", ".join(m.name for m in MODELS.values() if m.capability == capability)
            raise ConfigurationError(f"{setting}: {name!r} is not a known model here ({known})")
        if setting in active:
            warnings += _shutdown_warning(setting, model, on)
    if settings.runway.image_model == "gen4_image_turbo":
        raise ConfigurationError(
            "RUNWAY_IMAGE_MODEL: gen4_image_turbo requires reference images, so it cannot "
            "make segment 0's image; use it as RUNWAY_REFERENCE_IMAGE_MODEL"
        )
    for name in settings.runway.video_model_choices:
        if MODELS.get(name) is None or MODELS[name].capability != "video":
            raise ConfigurationError(f"RUNWAY_VIDEO_MODELS: {name!r} is not a known video model")
        if "RUNWAY_VIDEO_MODEL" in active and name != settings.runway.video_model:  # a user may pick it
            warnings += _shutdown_warning("RUNWAY_VIDEO_MODELS", MODELS[name], on)
    return warnings


# Each provider setting, its field (Settings.providers) and the providers it may name ("none":
# this function calls none).
PROVIDERS = {
    "LLM_PROVIDER": ("llm", ("openai", "offline", "none")),
    "IMAGE_PROVIDER": ("image", ("runway", "offline", "none")),
    "VIDEO_PROVIDER": ("video", ("runway", "offline", "none")),
    "TTS_PROVIDER": ("tts", ("openai", "polly", "offline", "none")),
    "TRANSCRIBE_PROVIDER": ("transcribe", ("openai", "none")),
    "NOTIFIER_PROVIDER": ("notifier", ("telegram", "log", "none")),
    "PIPELINE_LLM_PROVIDER": ("pipeline_llm", ("openai", "offline", "none")),
    "PIPELINE_TTS_PROVIDER": ("pipeline_tts", ("openai", "polly", "offline", "none")),
    "PIPELINE_TRANSCRIBE_PROVIDER": ("pipeline_transcribe", ("openai", "none")),
}
# The key a provider cannot start without (Polly signs with the function's IAM role).
PROVIDER_KEYS = {"openai": "OPENAI_API_KEY", "runway": "RUNWAYML_API_SECRET", "telegram": "TELEGRAM_BOT_TOKEN"}


def _shutdown_warning(setting: str, model: Model, on: date) -> list[str]:
    """[] for a model with no announced shutdown, a warning before its date; from the date on,
    ConfigurationError naming its replacement."""
    if not model.shuts_down:
        return []
    if model.shuts_down <= on:
        raise ConfigurationError(
            f"{setting}: {model.name} was shut down on {model.shuts_down}; use {model.replacement}"
        )
    return [
        f"{setting}: {model.name} shuts down on {model.shuts_down} "
        f"({(model.shuts_down - on).days} days); replace it with {model.replacement}"
    ]


def check_polly_engine(settings: Settings) -> None:
    """Refuse (ConfigurationError) a POLLY_ENGINE that a Polly voice the bot may speak with does not
    run on: with neural, Russian narration would fail on every part (EngineNotSupportedException)."""
    tts = settings.providers.tts
    fallback = tts == "openai" and settings.providers.tts_fallback == "polly"
    if tts != "polly" and not fallback:
        return
    offered = POLLY_VOICES if tts == "polly" else {}  # /settings offers them all
    voices = dict.fromkeys([settings.polly.voice_ru, settings.polly.voice_en, *offered])
    engine = settings.polly.engine
    unable = [v for v in voices if v in POLLY_VOICES and engine not in POLLY_VOICES[v][1]]
    if unable:
        runs_on = sorted({e for v in unable for e in POLLY_VOICES[v][1]})
        languages = sorted({{"ru": "Russian", "en": "English"}[POLLY_VOICES[v][0]] for v in unable})
        raise ConfigurationError(
            f"POLLY_ENGINE={engine}: Polly does not run {', '.join(unable)} on the {engine} engine "
            f"(its voice list: {'/'.join(runs_on)} only), so {' and '.join(languages)} narration would "
            f"fail; set POLLY_ENGINE={'standard' if 'standard' in runs_on else runs_on[0]}"
        )


def env(name: str, default: Any = None, **constraints: Any) -> Any:
    """A setting read from the environment variable `name` (its field may be given by either)."""
    return Field(default, alias=name, **constraints)


class Group(BaseModel):
    """One concern's settings: each field names its environment variable (`env`)."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, extra="forbid")


class StorageSettings(Group):
    """Media: S3 when MEDIA_BUCKET is set, else a local folder."""

    media_bucket: str | None = env("MEDIA_BUCKET")
    media_dir: str = env("MEDIA_DIR", ".local/media")
    presign_seconds: int = env("PRESIGN_SECONDS", 3600, ge=60, le=3600)


class DatabaseSettings(Group):
    url: str | None = env("DATABASE_URL")
    # a connection that cannot be opened within this is DatabaseUnavailable
    connect_timeout_seconds: int = env("DATABASE_CONNECT_TIMEOUT_SECONDS", 10, ge=1, le=60)
    # connections this process opens at most: a Lambda needs one (the webhook two: a topic
    # holds its chat's lock while it reads), the local runner's handler threads share more.
    # template.yaml's reserved concurrency x this must fit RDS (docs/deploy.md)
    pool_size: int = env("DATABASE_POOL_SIZE", 32, ge=1, le=200)
    # a caller waits this long for a free connection, then DatabaseUnavailable (retried)
    checkout_timeout_seconds: float = env("DATABASE_CHECKOUT_TIMEOUT_SECONDS", 10.0, gt=0, le=60)


class ProviderSettings(Group):
    """What this function calls. Unset: offline, or the vendor's own when its key is set (a
    laptop, `make demo`; Settings resolves them). template.yaml names every one on every
    function, "none" for what a function never calls (building it is then a
    ConfigurationError), and a provider whose key is missing refuses to start (PROVIDER_KEYS):
    never a silent switch to offline. Empty until Settings resolves it: always a name after."""

    llm: str = env("LLM_PROVIDER", "")
    image: str = env("IMAGE_PROVIDER", "")
    video: str = env("VIDEO_PROVIDER", "")
    tts: str = env("TTS_PROVIDER", "")
    transcribe: str = env("TRANSCRIBE_PROVIDER", "")  # voice notes: openai, or none
    notifier: str = env("NOTIFIER_PROVIDER", "")  # the user's messages: telegram, or log
    # The pipeline's providers, for a function that prices its work or offers its voices without
    # calling them (the webhook and its slow worker); unset: this function's own.
    pipeline_llm: str = env("PIPELINE_LLM_PROVIDER", "")
    pipeline_tts: str = env("PIPELINE_TTS_PROVIDER", "")
    pipeline_transcribe: str = env("PIPELINE_TRANSCRIBE_PROVIDER", "")
    # A voice model may reword: then the fallback provider speaks the part ("none": no fallback).
    tts_fallback: str = env("TTS_FALLBACK_PROVIDER", "polly")
    offline_spool_dir: str = env("OFFLINE_SPOOL_DIR", ".local/offline-tasks")
    # Offline vendors answer at once; a scale > 0 makes them take the seed's vendor times
    # multiplied by it (bench/pipeline). 1.0 is real time.
    offline_latency_scale: float = env("OFFLINE_LATENCY_SCALE", 0.0, ge=0.0, le=10.0)


class PipelineSettings(Group):
    """How the state machine runs a job. The first five are each execution's defaults (its
    input carries them: ExecutionSettings)."""

    approval_timeout_seconds: int = env("APPROVAL_TIMEOUT_SECONDS", 600, ge=1)
    # Vendor tasks are checked after max(interval, 15% of their age) (stages/vendor_tasks.py):
    # seen at most max(2 s, 15%) after they end. The first check waits for 80% of the model's
    # fastest recent task, at most *_first_poll_seconds (0: no learned first wait).
    poll_interval_seconds: int = env("POLL_INTERVAL_SECONDS", 2, ge=0)
    image_first_poll_seconds: int = env("IMAGE_FIRST_POLL_SECONDS", 30, ge=0)
    clip_first_poll_seconds: int = env("CLIP_FIRST_POLL_SECONDS", 90, ge=0)
    # Bounded so that no execution nears Step Functions' 25,000 events (tests/unit/test_event_budget.py).
    max_poll_attempts: int = env("MAX_POLL_ATTEMPTS", 90, ge=1, le=POLL_ATTEMPTS_LIMIT)
    # What a submit keeps of its Lambda's remaining time (its context) for the work after the
    # create (storing the id, the first poll): a create never outlives its Lambda.
    submit_reserve_seconds: int = env("SUBMIT_RESERVE_SECONDS", 15, ge=1)
    max_resubmits: int = env("MAX_RESUBMITS", 2, ge=0, le=3)
    # Stopping a failed or cancelled job's Runway tasks (lifecycle.stop_vendor_tasks) takes at most this:
    # a cancel starts only while a whole RUNWAY_TIMEOUT_SECONDS still fits.
    stop_tasks_seconds: int = env("STOP_TASKS_SECONDS", 40, ge=1)
    map_max_concurrency: int = env("MAP_MAX_CONCURRENCY", 10, ge=1, le=40)
    segment_seconds: float = env("SEGMENT_SECONDS", 5.0)
    aspect_ratio: Literal["16:9", "9:16"] = env("ASPECT_RATIO", "16:9")
    # feedback rounds per gate and job; at most 9 keeps the worst execution under Step Functions'
    # 25,000 events (tests/unit/test_event_budget.py)
    max_gate_revisions: int = env("MAX_GATE_REVISIONS", 5, ge=0, le=9)
    # A redo at a gate costing this much or more is confirmed with one tap; a cheaper one starts
    # at once, its price said in the answer (0: every redo is confirmed).
    redo_confirm_usd: float = env("REDO_CONFIRM_USD", 0.5, ge=0)

    @property
    def segment_count(self) -> int:
        return SEGMENT_COUNT


class OpenAISettings(Group):
    """OpenAI: the LLM (Responses), speech (Realtime) and transcription. The base URLs unset
    mean the vendor's public API; tests point them at local fakes."""

    api_key: str | None = env("OPENAI_API_KEY", repr=False)
    base_url: str | None = env("OPENAI_BASE_URL")
    # Speech on the Realtime API (WebSocket; OPENAI_WEBSOCKET_BASE_URL, else OPENAI_BASE_URL's
    # host): /v1/audio/speech's models shut down on 2027-01-06.
    websocket_base_url: str | None = env("OPENAI_WEBSOCKET_BASE_URL")
    model: str = env("OPENAI_MODEL", "gpt-5.4-mini")
    reasoning_effort: str = env("OPENAI_REASONING_EFFORT", "low")  # "default": send none, use the model's
    max_output_tokens: int = env("OPENAI_MAX_OUTPUT_TOKENS", 6000, ge=500)
    timeout_seconds: float = env("OPENAI_TIMEOUT_SECONDS", 25.0, gt=0)  # per request; see the Lambda timeouts
    max_retries: int = env("OPENAI_MAX_RETRIES", 2, ge=0, le=5)  # the SDK's backoff on 429/5xx, never 400
    tts_model: str = env("OPENAI_TTS_MODEL", "gpt-realtime-2.1-mini")
    tts_voice: str = env("OPENAI_TTS_VOICE", "marin")
    tts_instructions: str = env(
        "OPENAI_TTS_INSTRUCTIONS",
        "You are a narrator reading an advert aloud, warmly and clearly, at an even "
        "pace. Read the user's text exactly as written, word for word: do not "
        "add, drop, reorder or translate any word, and say nothing else.",
    )
    # A voice model may reword: a transcript that differs from the text is read again this
    # many times, then the fallback provider speaks the part.
    tts_verbatim_retries: int = env("OPENAI_TTS_VERBATIM_RETRIES", 1, ge=0, le=3)
    transcribe_model: str = env("OPENAI_TRANSCRIBE_MODEL", "gpt-transcribe")  # voice-note topics


class RunwaySettings(Group):
    api_secret: str | None = env("RUNWAYML_API_SECRET", repr=False)
    base_url: str | None = env("RUNWAYML_BASE_URL")
    api_version: str = env("RUNWAY_API_VERSION", "2024-11-06")
    image_model: str = env("RUNWAY_IMAGE_MODEL", "gen4_image")
    # The image model of segments 1-9 (they have segment 0's image as a reference):
    # gen4_image_turbo, 2 credits against gen4_image's 5 at 720p (Runway's cheaper, faster Gen-4
    # image model for reference-guided images); it requires reference images, so segment 0 is
    # always RUNWAY_IMAGE_MODEL.
    reference_image_model: str = env("RUNWAY_REFERENCE_IMAGE_MODEL", "gen4_image_turbo")
    video_model: str = env("RUNWAY_VIDEO_MODEL", "gen4_turbo")
    # The video models a user may pick in /settings (the setting above is the default); each
    # must be a known video model with a price (check_models refuses any other at start-up).
    video_models: str = env("RUNWAY_VIDEO_MODELS", "gen4_turbo,gen4.5,veo3.1_fast")
    timeout_seconds: float = env("RUNWAY_TIMEOUT_SECONDS", 20.0, gt=0)
    max_retries: int = env("RUNWAY_MAX_RETRIES", 3, ge=0, le=6)  # on 429/5xx, for creates and polls alike
    # Generations Runway runs at once for this project (its usage tier, per model: tier 1 runs 1-2,
    # tier 2 3, tier 3 5, tier 4 10, tier 5 20; docs.dev.runwayml.com/usage/tiers). Beyond it
    # Runway only queues the task as THROTTLED: no faster, every queued task is polled for
    # nothing, and the Map's "10 at once" would not be true. So the Maps run at most this many
    # segments while Runway makes them. Default 2: tier 1, where every new project starts.
    concurrency: int = env("RUNWAY_CONCURRENCY", 2, ge=1, le=40)
    # Generations a day per model (the tier's "max gens/day", per model; tier 1: 50 for some
    # models, 200 for others; docs.dev.runwayml.com/usage/tiers). Past it Runway answers 429 on
    # create, so a stage's generations are reserved against it before its Map starts
    # (videobot.data.ledger). 0: no cap counted here.
    daily_generations: int = env("RUNWAY_DAILY_GENERATIONS", 50, ge=0)

    @property
    def video_model_choices(self) -> tuple[str, ...]:
        names = [n.strip() for n in self.video_models.split(",") if n.strip()]
        return tuple(dict.fromkeys([self.video_model, *names]))


class PollySettings(Group):
    voice_ru: str = env("POLLY_VOICE_RU", "Tatyana")
    voice_en: str = env("POLLY_VOICE_EN", "Joanna")
    engine: Literal["standard", "neural"] = env("POLLY_ENGINE", "standard")  # the Russian voices are standard only


class AwsSettings(Group):
    """The Step Functions and Lambda clients and their time budget (botocore, "standard" retry
    mode: `client_attempts` tries, at most 2^n s of backoff between them)."""

    state_machine_arn: str | None = env("STATE_MACHINE_ARN")
    connect_timeout_seconds: float = env("AWS_CONNECT_TIMEOUT_SECONDS", 3.0, gt=0)
    read_timeout_seconds: float = env("AWS_READ_TIMEOUT_SECONDS", 10.0, gt=0)
    client_attempts: int = env("AWS_CLIENT_ATTEMPTS", 3, ge=1, le=10)
    # SendTask* and StopExecution answered with a throttle (nothing landed: safe to send again)
    # are tried this many times in all (control.call_step_functions), with full-jitter backoff
    # from 0.5 s doubling. 1 where botocore's standard mode already retries throttles
    # (`client_attempts` > 1); the webhook, whose client makes one attempt (a lost answer must
    # not be sent again blindly), sets 2 within its 29 s (tests/unit/test_timeouts.py).
    throttle_attempts: int = env("AWS_THROTTLE_ATTEMPTS", 1, ge=1, le=8)
    # The webhook's slow work (/history's resend, voice feedback at a gate) runs in this
    # function, invoked asynchronously (HandleSlowUpdateFunction in template.yaml).
    slow_update_function_name: str | None = env("SLOW_UPDATE_FUNCTION_NAME")


class TelegramSettings(Group):
    """The bot (functions/webhook, videobot/telegram). Without TELEGRAM_BOT_TOKEN the
    pipeline's messages go to the log (LogNotifier)."""

    bot_token: str | None = env("TELEGRAM_BOT_TOKEN", repr=False)
    webhook_secret: str | None = env("TELEGRAM_WEBHOOK_SECRET", repr=False)
    api_base_url: str = env("TELEGRAM_API_BASE_URL", "https://api.telegram.org")
    # Comma-separated Telegram user ids. Fails closed: empty (or unset) means nobody may use the
    # bot, and `*` is the only way to open it to everyone.
    allowed_user_ids: str | None = env("ALLOWED_USER_IDS")
    # Handled update ids are kept this long to drop Telegram's redeliveries (it stops after a
    # 2xx, and gives an update up within 24 hours), then purged by the reconciler's sweep.
    updates_retention_hours: int = env("TELEGRAM_UPDATES_RETENTION_HOURS", 48, ge=25)
    max_topic_chars: int = env("MAX_TOPIC_CHARS", 1000, ge=1, le=4000)
    upload_limit_bytes: int = env("TELEGRAM_UPLOAD_LIMIT_BYTES", TELEGRAM_UPLOAD_LIMIT_BYTES, ge=1)
    max_voice_bytes: int = env("MAX_VOICE_BYTES", 20_000_000, ge=1, le=20_000_000)  # getFile's cap: "20MB"
    history_jobs: int = env("HISTORY_JOBS", 5, ge=1, le=10)  # jobs /history lists
    max_retry_after_seconds: int = env("TELEGRAM_MAX_RETRY_AFTER_SECONDS", 10, ge=0)  # longer 429 waits fail
    # The Bot API client's time budget (videobot/telegram/bot.py): per attempt, connect + read
    # (or write; an upload writes for at most media_write), `attempts` tries with 0.5 s × n (or
    # a 429's retry_after) between them. The webhook runs with tighter figures (template.yaml):
    # Telegram's redelivery is its retry. tests/unit/test_timeouts.py adds these up against
    # every Lambda's Timeout.
    connect_timeout_seconds: float = env("TELEGRAM_CONNECT_TIMEOUT_SECONDS", 3.0, gt=0)
    read_timeout_seconds: float = env("TELEGRAM_READ_TIMEOUT_SECONDS", 7.0, gt=0)
    media_write_timeout_seconds: float = env("TELEGRAM_MEDIA_WRITE_TIMEOUT_SECONDS", 60.0, gt=0)
    attempts: int = env("TELEGRAM_ATTEMPTS", 3, ge=1, le=5)
    # A button tap is answered (answerCallbackQuery) with its outcome if that is known within
    # this time, else with "working on it" at once and the outcome follows in the chat.
    callback_answer_seconds: float = env("CALLBACK_ANSWER_SECONDS", 1.0, ge=0, le=10)

    @field_validator("allowed_user_ids")
    @classmethod
    def _user_ids_are_numbers(cls, value: str | None) -> str | None:
        if (value or "").strip() == "*":  # explicitly open to everyone
            return value
        for part in (value or "").replace(";", ",").replace(" ", ",").split(","):
            if part.strip() and not part.strip().lstrip("-").isdigit():
                raise ValueError("must be Telegram user ids separated by commas")
        return value

    @property
    def open_to_everyone(self) -> bool:
        return (self.allowed_user_ids or "").strip() == "*"

    @property
    def allowed_user_id_set(self) -> frozenset[int]:
        raw = (self.allowed_user_ids or "").replace(";", ",").replace(" ", ",")
        if raw.strip() == "*":
            return frozenset()
        return frozenset(int(part) for part in raw.split(",") if part.strip())

    def allows(self, user_id: int | None) -> bool:
        """Whether this Telegram user may use the bot: `*` opens it, else only the ids listed
        (none listed: nobody); an update without a sender never."""
        return user_id is not None and (self.open_to_everyone or user_id in self.allowed_user_id_set)


class LimitSettings(Group):
    """What one user, and all of them, may spend in any 24 hours."""

    # Topics one Telegram user may start (each costs about 3 USD); 0: no limit.
    max_jobs_per_user_per_day: int = env("MAX_JOBS_PER_USER_PER_DAY", 10, ge=0)
    # The vendor spend (estimated USD, videobot/usage.py) one user may cause; a new topic is
    # refused once it is reached. 0: no budget.
    max_usd_per_user_per_day: float = env("MAX_USD_PER_USER_PER_DAY", 30.0, ge=0)
    # Bot-wide, every user together (0 = no limit): the ceiling on a day's estimated vendor bill.
    max_usd_per_day: float = env("MAX_USD_PER_DAY", 100.0, ge=0)


class AssemblySettings(Group):
    """FFmpeg and the finished video (media.py): narration fitting, subtitles, transitions,
    loudness, music, size cap."""

    ffmpeg_path: str | None = env("FFMPEG_PATH")  # else /opt/bin/ffmpeg (the Lambda layer), else imageio-ffmpeg
    music_path: str | None = env("MUSIC_PATH")  # optional bed, looped and ducked
    music_gain_db: float = env("MUSIC_GAIN_DB", -8.0, ge=-40, le=0)  # the bed's level before ducking
    narration_max_tempo: float = env("NARRATION_MAX_TEMPO", 1.25, ge=1.0, le=2.0)  # speed-up before a rewrite
    # A part too long even at NARRATION_MAX_TEMPO is rewritten shorter by the LLM and spoken
    # again, at most this many rounds; one still too long is read up to NARRATION_RESCUE_TEMPO,
    # then kept to its first whole words (stages/record_voiceover.py). Never cut.
    narration_rewrite_rounds: int = env("NARRATION_REWRITE_ROUNDS", 2, ge=0, le=5)
    narration_rescue_tempo: float = env("NARRATION_RESCUE_TEMPO", 1.4, ge=1.0, le=2.0)
    subtitles: bool = env("SUBTITLES", True)  # burn the segment texts in
    fade_seconds: float = env("FADE_SECONDS", 0.25, ge=0, le=1.0)  # per-clip fade from/to black
    target_lufs: float = env("TARGET_LUFS", -16.0, ge=-30, le=-9)  # integrated loudness
    true_peak_db: float = env("TRUE_PEAK_DB", -1.5, ge=-9, le=-1)  # ceiling, dBTP
    max_video_bytes: int = env(
        "MAX_VIDEO_BYTES", TELEGRAM_UPLOAD_LIMIT_BYTES, ge=1_000_000, le=TELEGRAM_UPLOAD_LIMIT_BYTES
    )
    max_video_bitrate: int = env("MAX_VIDEO_BITRATE", 4_000_000, ge=300_000)  # bit/s; lowered further to fit the cap


GROUPS: dict[str, type[Group]] = {
    "storage": StorageSettings,
    "database": DatabaseSettings,
    "providers": ProviderSettings,
    "pipeline": PipelineSettings,
    "openai": OpenAISettings,
    "runway": RunwaySettings,
    "polly": PollySettings,
    "aws": AwsSettings,
    "telegram": TelegramSettings,
    "limits": LimitSettings,
    "assembly": AssemblySettings,
}


def _group_of() -> dict[str, str]:
    """Each environment name -> the group whose field it is."""
    return {field.alias: group for group, cls in GROUPS.items() for field in cls.model_fields.values() if field.alias}


class Settings(BaseModel):
    """Every setting, grouped by concern; each field keeps its environment variable's name.
    Built once per process from the environment (settings_from_environ); `Settings(NAME=value)`
    takes values by those names too (a test's way)."""

    storage: StorageSettings = Field(default_factory=StorageSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    providers: ProviderSettings = Field(default_factory=ProviderSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    runway: RunwaySettings = Field(default_factory=RunwaySettings)
    polly: PollySettings = Field(default_factory=PollySettings)
    aws: AwsSettings = Field(default_factory=AwsSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    assembly: AssemblySettings = Field(default_factory=AssemblySettings)

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _by_environment_name(cls, values: Any) -> Any:
        """Values given by environment name (OPENAI_MODEL=...) go to their group."""
        if not isinstance(values, dict):
            return values
        groups = _group_of()
        grouped: dict[str, Any] = {}
        for key, value in values.items():
            if key in groups:
                grouped.setdefault(groups[key], {})[key] = value
            else:
                grouped[key] = value
        return grouped

    @model_validator(mode="after")
    def _resolve_providers(self) -> Settings:
        has_openai, has_runway = bool(self.openai.api_key), bool(self.runway.api_secret)
        p = self.providers
        own = {
            "llm": (p.llm or ("openai" if has_openai else "offline")).lower(),
            "image": (p.image or ("runway" if has_runway else "offline")).lower(),
            "video": (p.video or ("runway" if has_runway else "offline")).lower(),
            "tts": (p.tts or ("openai" if has_openai else "offline")).lower(),
            "transcribe": (p.transcribe or ("openai" if has_openai else "none")).lower(),
            "notifier": (p.notifier or ("telegram" if self.telegram.bot_token else "log")).lower(),
        }
        for name in ("llm", "tts", "transcribe"):
            own[f"pipeline_{name}"] = (getattr(p, f"pipeline_{name}") or own[name]).lower()
        self.providers = p.model_copy(update=own)
        keys = {"openai": self.openai.api_key, "runway": self.runway.api_secret, "telegram": self.telegram.bot_token}
        for setting, (field, choices) in PROVIDERS.items():
            value = own[field]
            if value not in choices:
                raise ValueError(f"{setting}={value!r} is none of {', '.join(choices)}")
            if value in PROVIDER_KEYS and not field.startswith("pipeline_") and not keys[value]:
                # on AWS: the function was not given the key's secret, or may not read it
                raise ValueError(f"{setting}={value} needs {PROVIDER_KEYS[value]}, which this function was not given")
        return self

    def with_values(self, **values: Any) -> Settings:
        """These settings with some changed, given by environment name (OPENAI_MODEL=...) and
        validated again."""
        current = {k: v for group in GROUPS for k, v in getattr(self, group).model_dump(by_alias=True).items()}
        return Settings(**{**current, **values})

    def active_model_settings(self) -> set[str]:
        """The model settings a request can use with the providers chosen (environment names)."""
        active = set()
        if self.providers.llm == "openai":
            active.add("OPENAI_MODEL")
        if self.providers.tts == "openai":
            active.add("OPENAI_TTS_MODEL")
        if self.providers.transcribe == "openai":
            active.add("OPENAI_TRANSCRIBE_MODEL")
        if self.providers.image == "runway":
            active |= {"RUNWAY_IMAGE_MODEL", "RUNWAY_REFERENCE_IMAGE_MODEL"}
        if self.providers.video == "runway":
            active.add("RUNWAY_VIDEO_MODEL")
        return active

    def execution(self, **overrides: Any) -> ExecutionSettings:
        """The settings a new execution carries in its input (the deployment's, with `overrides`)."""
        p = self.pipeline
        defaults = {
            "approval_timeout_seconds": p.approval_timeout_seconds,
            "poll_interval_seconds": p.poll_interval_seconds,
            "image_first_poll_seconds": p.image_first_poll_seconds,
            "clip_first_poll_seconds": p.clip_first_poll_seconds,
            "max_poll_attempts": p.max_poll_attempts,
            "max_concurrency": self.max_concurrency,
        }
        return ExecutionSettings(**{**defaults, **overrides})

    @property
    def max_concurrency(self) -> int:
        """The Maps' MaxConcurrency: MAP_MAX_CONCURRENCY, and no more than Runway's tier runs
        at once (RUNWAY_CONCURRENCY) when Runway makes the images or the clips."""
        if "runway" in (self.providers.image, self.providers.video):
            return min(self.pipeline.map_max_concurrency, self.runway.concurrency)
        return self.pipeline.map_max_concurrency


def setting_names() -> frozenset[str]:
    """The environment names of the settings."""
    return frozenset(_group_of())


def settings_from_environ(environ: Mapping[str, str]) -> Settings:
    """The settings from environment variables (their names are the fields' in upper case),
    validated; secrets named by ARN are fetched (videobot.secrets). Read once, by an entry
    point (videobot.runtime.from_environment)."""
    # On AWS the keys come from Secrets Manager; a plain env value wins.
    from videobot.secrets import resolve_secret_settings

    environ = {**resolve_secret_settings(environ), **{k: v for k, v in environ.items() if v not in (None, "")}}
    names = setting_names()
    values = {name: value for name, value in environ.items() if name in names and value not in (None, "")}
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:  # never echo values: some are secrets; name each by its variable
        problems = ", ".join(f"{e['loc'][-1]}: {e['msg']}" if e["loc"] else e["msg"] for e in exc.errors())
        raise ConfigurationError(f"invalid configuration: {problems}") from None
    # The secrets are redacted from every log line.
    from videobot.observability import logger, register_secrets

    for warning in check_models(settings):
        logger.warning("a configured model shuts down soon", extra={"model_warning": warning})
    check_polly_engine(settings)

    register_secrets(
        settings.telegram.bot_token,
        settings.telegram.webhook_secret,
        settings.openai.api_key,
        settings.runway.api_secret,
        *database_passwords(settings.database.url),
    )
    return settings


_DSN_PASSWORD = re.compile(r"(?:^|[\s?&])password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)")


def database_passwords(url: str | None) -> list[str]:
    """The password in DATABASE_URL, as written and decoded (a URI's, or a key=value DSN's):
    libpq quotes the part of a connection string it cannot parse in its error."""
    if not url:
        return []
    found = [m.group(1).strip("'") for m in _DSN_PASSWORD.finditer(url)]
    if "://" in url:  # scheme://user:password@host:port/name, read as text (it may not parse)
        found.append(url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[0].partition(":")[2])
    return [p for v in found if v for p in {v, unquote(v)}]
