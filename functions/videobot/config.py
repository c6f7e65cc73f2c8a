"""Configuration, read from the environment once and validated (pydantic)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from videobot.errors import ConfigurationError

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

# Each model setting and the capability its model must have.
MODEL_SETTINGS = {
    "openai_model": ("llm",),
    "openai_tts_model": ("realtime_speech",),
    "openai_transcribe_model": ("transcription",),
    "runway_image_model": ("image",),
    "runway_reference_image_model": ("image",),
    "runway_video_model": ("video",),
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
    for setting, capabilities in MODEL_SETTINGS.items():
        name = getattr(settings, setting)
        model = MODELS.get(name)
        if model is None or model.capability not in capabilities:
            known = ", ".join(m.name for m in MODELS.values() if m.capability in capabilities)
            raise ConfigurationError(f"{setting.upper()}: {name!r} is not a known model here ({known})")
        if setting in active:
            warnings += _shutdown_warning(setting.upper(), model, on)
    if settings.runway_image_model == "gen4_image_turbo":
        raise ConfigurationError(
            "RUNWAY_IMAGE_MODEL: gen4_image_turbo requires reference images, so it cannot "
            "make segment 0's image; use it as RUNWAY_REFERENCE_IMAGE_MODEL"
        )
    for name in settings.video_model_choices:
        if MODELS.get(name) is None or MODELS[name].capability != "video":
            raise ConfigurationError(f"RUNWAY_VIDEO_MODELS: {name!r} is not a known video model")
        if "runway_video_model" in active and name != settings.runway_video_model:  # a user may pick it
            warnings += _shutdown_warning("RUNWAY_VIDEO_MODELS", MODELS[name], on)
    return warnings


# Each provider setting and the providers it may name ("none": this function calls none).
PROVIDERS = {
    "llm_provider": ("openai", "offline", "none"),
    "image_provider": ("runway", "offline", "none"),
    "video_provider": ("runway", "offline", "none"),
    "tts_provider": ("openai", "polly", "offline", "none"),
    "transcribe_provider": ("openai", "none"),
    "notifier_provider": ("telegram", "log", "none"),
    "pipeline_llm_provider": ("openai", "offline", "none"),
    "pipeline_tts_provider": ("openai", "polly", "offline", "none"),
    "pipeline_transcribe_provider": ("openai", "none"),
}
# The key a provider cannot start without (Polly signs with the function's IAM role).
PROVIDER_KEYS = {"openai": "openai_api_key", "runway": "runwayml_api_secret", "telegram": "telegram_bot_token"}


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
    fallback = settings.tts_provider == "openai" and settings.tts_fallback_provider == "polly"
    if settings.tts_provider != "polly" and not fallback:
        return
    offered = POLLY_VOICES if settings.tts_provider == "polly" else {}  # /settings offers them all
    voices = dict.fromkeys([settings.polly_voice_ru, settings.polly_voice_en, *offered])
    engine = settings.polly_engine
    unable = [v for v in voices if v in POLLY_VOICES and engine not in POLLY_VOICES[v][1]]
    if unable:
        runs_on = sorted({e for v in unable for e in POLLY_VOICES[v][1]})
        languages = sorted({{"ru": "Russian", "en": "English"}[POLLY_VOICES[v][0]] for v in unable})
        raise ConfigurationError(
            f"POLLY_ENGINE={engine}: Polly does not run {', '.join(unable)} on the {engine} engine "
            f"(its voice list: {'/'.join(runs_on)} only), so {' and '.join(languages)} narration would "
            f"fail; set POLLY_ENGINE={'standard' if 'standard' in runs_on else runs_on[0]}"
        )


class Settings(BaseModel):
    # Storage: S3 when MEDIA_BUCKET is set, else a local folder.
    media_bucket: str | None = None
    media_dir: str = ".local/media"
    presign_seconds: int = Field(3600, ge=60, le=3600)

    # PostgreSQL.
    database_url: str | None = None

    # Providers: what this function calls. Unset: offline, or the vendor's own when its key is
    # set (a laptop, `make demo`). template.yaml names every one on every function, "none" for
    # what a function never calls (building it is then a ConfigurationError), and a provider
    # whose key is missing refuses to start (PROVIDER_KEYS): never a silent switch to offline.
    llm_provider: str | None = None
    image_provider: str | None = None
    video_provider: str | None = None
    tts_provider: str | None = None
    transcribe_provider: str | None = None  # voice notes: openai, or none
    notifier_provider: str | None = None  # the user's messages: telegram, or log
    # The pipeline's providers, for a function that prices its work or offers its voices without
    # calling them (the webhook and its slow worker); unset: this function's own.
    pipeline_llm_provider: str | None = None
    pipeline_tts_provider: str | None = None
    pipeline_transcribe_provider: str | None = None
    openai_api_key: str | None = Field(None, repr=False)
    runwayml_api_secret: str | None = Field(None, repr=False)
    offline_spool_dir: str = ".local/offline-tasks"
    # Offline vendors answer at once; a scale > 0 makes them take the seed's vendor times
    # multiplied by it (bench/pipeline). 1.0 is real time.
    offline_latency_scale: float = Field(0.0, ge=0.0, le=10.0)

    # Pipeline knobs, passed into each execution's input.
    approval_timeout_seconds: int = Field(600, ge=1)
    # Vendor tasks are checked after max(interval, 15% of their age) (stages/vendor_tasks.py):
    # seen at most max(2 s, 15%) after they end. The first check waits for 80% of the model's
    # fastest recent task, at most *_first_poll_seconds (0: no learned first wait).
    poll_interval_seconds: int = Field(2, ge=0)
    image_first_poll_seconds: int = Field(30, ge=0)
    clip_first_poll_seconds: int = Field(90, ge=0)
    max_poll_attempts: int = Field(90, ge=1)
    # The Submit* functions' timeouts (template.yaml) and what a submit keeps for the work
    # after the create (storing the id, the first poll): a create never outlives its Lambda.
    submit_image_timeout_seconds: int = Field(60, ge=10)
    submit_clip_timeout_seconds: int = Field(120, ge=10)
    submit_reserve_seconds: int = Field(15, ge=1)
    max_resubmits: int = Field(2, ge=0)
    # Stopping a failed or cancelled job's Runway tasks (lifecycle.stop_vendor_tasks) takes at most this:
    # a cancel starts only while a whole RUNWAY_TIMEOUT_SECONDS still fits.
    stop_tasks_seconds: int = Field(40, ge=1)
    map_max_concurrency: int = Field(10, ge=1, le=40)
    # Generations Runway runs at once for this project (its usage tier, per model: tier 1 runs 1-2,
    # tier 2 3, tier 3 5, tier 4 10, tier 5 20; docs.dev.runwayml.com/usage/tiers). Beyond it
    # Runway only queues the task as THROTTLED: no faster, every queued task is polled for
    # nothing, and the Map's "10 at once" would not be true. So the Maps run at most this many
    # segments while Runway makes them. Default 2: tier 1, where every new project starts.
    runway_concurrency: int = Field(2, ge=1, le=40)
    segment_seconds: float = 5.0
    aspect_ratio: Literal["16:9", "9:16"] = "16:9"

    # ---- Vendors: OpenAI (Responses, speech, transcription), Runway, Polly ----
    # Base URLs: unset means the vendor's public API; tests point them at local fakes.
    openai_base_url: str | None = None
    openai_model: str = "gpt-5.4-mini"
    openai_reasoning_effort: str = "low"  # "default": send none, use the model's
    openai_max_output_tokens: int = Field(6000, ge=500)
    openai_timeout_seconds: float = Field(25.0, gt=0)  # per request; see the Lambda timeouts
    openai_max_retries: int = Field(2, ge=0, le=5)  # the SDK's backoff on 429/5xx, never 400
    # Speech on the Realtime API (WebSocket; OPENAI_WEBSOCKET_BASE_URL, else OPENAI_BASE_URL's
    # host): /v1/audio/speech's models shut down on 2027-01-06.
    openai_websocket_base_url: str | None = None
    openai_tts_model: str = "gpt-realtime-2.1-mini"
    openai_tts_voice: str = "marin"
    openai_tts_instructions: str = (
        "You are a narrator reading an advert aloud, warmly and clearly, at an even "
        "pace. Read the user's text exactly as written, word for word: do not "
        "add, drop, reorder or translate any word, and say nothing else."
    )
    # A voice model may reword: a transcript that differs from the text is read again this
    # many times, then the fallback provider speaks the part ("none": no fallback).
    openai_tts_verbatim_retries: int = Field(1, ge=0, le=3)
    tts_fallback_provider: str = "polly"
    runwayml_base_url: str | None = None
    runway_api_version: str = "2024-11-06"
    runway_image_model: str = "gen4_image"
    runway_video_model: str = "gen4_turbo"
    # The image model of segments 1-9 (they have segment 0's image as a reference):
    # gen4_image_turbo, 2 credits against gen4_image's 5 at 720p (Runway's cheaper, faster Gen-4
    # image model for reference-guided images); it requires reference images, so segment 0 is
    # always RUNWAY_IMAGE_MODEL.
    runway_reference_image_model: str = "gen4_image_turbo"
    # The video models a user may pick in /settings (the setting above is the default); each
    # must be a known video model with a price (check_models refuses any other at start-up).
    runway_video_models: str = "gen4_turbo,gen4.5,veo3.1_fast"
    runway_timeout_seconds: float = Field(20.0, gt=0)
    runway_max_retries: int = Field(3, ge=0, le=6)  # on 429/5xx, for creates and polls alike
    polly_voice_ru: str = "Tatyana"
    polly_voice_en: str = "Joanna"
    polly_engine: Literal["standard", "neural"] = "standard"  # the Russian voices are standard only

    # AWS.
    state_machine_arn: str | None = None
    # The Step Functions and Lambda clients' time budget (botocore, "standard" retry mode:
    # `aws_client_attempts` tries, at most 2^n s of backoff between them).
    aws_connect_timeout_seconds: float = Field(3.0, gt=0)
    aws_read_timeout_seconds: float = Field(10.0, gt=0)
    aws_client_attempts: int = Field(3, ge=1, le=10)
    # PostgreSQL: a connection that cannot be opened within this is DatabaseUnavailable.
    database_connect_timeout_seconds: int = Field(10, ge=1, le=60)
    # The webhook's slow work (/history's resend, voice feedback at a gate) runs in this
    # function, invoked asynchronously (HandleSlowUpdateFunction in template.yaml).
    slow_update_function_name: str | None = None

    # FFmpeg: FFMPEG_PATH, else /opt/bin/ffmpeg (the Lambda layer), else imageio-ffmpeg.
    ffmpeg_path: str | None = None

    # ---- Telegram bot (functions/webhook, videobot/telegram) ----
    # Without TELEGRAM_BOT_TOKEN the pipeline's messages go to the log (LogNotifier).
    telegram_bot_token: str | None = Field(None, repr=False)
    telegram_webhook_secret: str | None = Field(None, repr=False)
    telegram_api_base_url: str = "https://api.telegram.org"
    # Comma-separated Telegram user ids; empty means everyone may use the bot.
    allowed_user_ids: str | None = None
    max_topic_chars: int = Field(1000, ge=1, le=4000)
    telegram_upload_limit_bytes: int = Field(TELEGRAM_UPLOAD_LIMIT_BYTES, ge=1)
    telegram_max_retry_after_seconds: int = Field(10, ge=0)  # longer 429 waits raise VendorUnavailable
    # The Bot API client's time budget (videobot/telegram/bot.py): per attempt, connect + read
    # (or write; an upload writes for at most media_write), `telegram_attempts` tries with
    # 0.5 s × n (or a 429's retry_after) between them. The webhook runs with tighter figures
    # (template.yaml): Telegram's redelivery is its retry. tests/unit/test_timeouts.py adds
    # these up against every Lambda's Timeout.
    telegram_connect_timeout_seconds: float = Field(3.0, gt=0)
    telegram_read_timeout_seconds: float = Field(7.0, gt=0)
    telegram_media_write_timeout_seconds: float = Field(60.0, gt=0)
    telegram_attempts: int = Field(3, ge=1, le=5)
    # A button tap is answered (answerCallbackQuery) with its outcome if that is known within
    # this time, else with "working on it" at once and the outcome follows in the chat.
    callback_answer_seconds: float = Field(1.0, ge=0, le=10)

    # ---- Limits per user ----
    # Topics one Telegram user may start in any 24 hours (each costs about 3 USD); 0: no limit.
    max_jobs_per_user_per_day: int = Field(10, ge=0)
    # The vendor spend (estimated USD, videobot/usage.py) one user may cause in any 24 hours;
    # a new topic is refused once it is reached. 0: no budget.
    max_usd_per_user_per_day: float = Field(30.0, ge=0)
    # Bot-wide, every user together (0 = no limit): the ceiling on a day's estimated vendor bill.
    max_usd_per_day: float = Field(100.0, ge=0)

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
    def segment_count(self) -> int:
        return SEGMENT_COUNT

    @property
    def allowed_user_id_set(self) -> frozenset[int]:
        raw = (self.allowed_user_ids or "").replace(";", ",").replace(" ", ",")
        if raw.strip() == "*":
            return frozenset()
        return frozenset(int(part) for part in raw.split(",") if part.strip())

    # ---- Assembly (media.py): narration fitting, subtitles, transitions, loudness, music, size cap
    music_path: str | None = None  # optional bed, looped and ducked
    music_gain_db: float = Field(-8.0, ge=-40, le=0)  # the bed's level before ducking
    narration_max_tempo: float = Field(1.25, ge=1.0, le=2.0)  # speed-up limit before a cut
    subtitles: bool = True  # burn the segment texts in
    fade_seconds: float = Field(0.25, ge=0, le=1.0)  # per-clip fade from/to black
    target_lufs: float = Field(-16.0, ge=-30, le=-9)  # integrated loudness
    true_peak_db: float = Field(-1.5, ge=-9, le=-1)  # ceiling, dBTP
    max_video_bytes: int = Field(TELEGRAM_UPLOAD_LIMIT_BYTES, ge=1_000_000, le=TELEGRAM_UPLOAD_LIMIT_BYTES)
    max_video_bitrate: int = Field(4_000_000, ge=300_000)  # bit/s; lowered further to fit the cap

    # ---- Steering: voice topics, per-user settings, gate feedback ----
    openai_transcribe_model: str = "gpt-transcribe"  # voice-note topics (needs OPENAI_API_KEY)
    max_voice_bytes: int = Field(20_000_000, ge=1, le=20_000_000)  # getFile's download cap: "20MB"
    history_jobs: int = Field(5, ge=1, le=10)  # jobs /history lists
    max_gate_revisions: int = Field(5, ge=0, le=20)  # feedback rounds per gate and job

    @model_validator(mode="after")
    def _resolve_providers(self) -> Settings:
        has_openai = bool(self.openai_api_key)
        has_runway = bool(self.runwayml_api_secret)
        self.llm_provider = (self.llm_provider or ("openai" if has_openai else "offline")).lower()
        self.image_provider = (self.image_provider or ("runway" if has_runway else "offline")).lower()
        self.video_provider = (self.video_provider or ("runway" if has_runway else "offline")).lower()
        self.tts_provider = (self.tts_provider or ("openai" if has_openai else "offline")).lower()
        self.transcribe_provider = (self.transcribe_provider or ("openai" if has_openai else "none")).lower()
        self.notifier_provider = (self.notifier_provider or ("telegram" if self.telegram_bot_token else "log")).lower()
        for own in ("llm", "tts", "transcribe"):
            pipeline = f"pipeline_{own}_provider"
            setattr(self, pipeline, (getattr(self, pipeline) or getattr(self, f"{own}_provider")).lower())
        for setting, choices in PROVIDERS.items():
            value = getattr(self, setting)
            if value not in choices:
                raise ValueError(f"{setting.upper()}={value!r} is none of {', '.join(choices)}")
            key = PROVIDER_KEYS.get(value)
            if key and not setting.startswith("pipeline_") and not getattr(self, key):
                # on AWS: the function was not given the key's secret, or may not read it
                raise ValueError(f"{setting.upper()}={value} needs {key.upper()}, which this function was not given")
        return self

    @property
    def video_model_choices(self) -> tuple[str, ...]:
        names = [n.strip() for n in self.runway_video_models.split(",") if n.strip()]
        return tuple(dict.fromkeys([self.runway_video_model, *names]))

    def active_model_settings(self) -> set[str]:
        """The model settings a request can use with the providers chosen."""
        active = set()
        if self.llm_provider == "openai":
            active.add("openai_model")
        if self.tts_provider == "openai":
            active.add("openai_tts_model")
        if self.transcribe_provider == "openai":
            active.add("openai_transcribe_model")
        if self.image_provider == "runway":
            active |= {"runway_image_model", "runway_reference_image_model"}
        if self.video_provider == "runway":
            active.add("runway_video_model")
        return active

    def execution_settings(self) -> dict:
        """The knobs every execution carries in its input (ASL *Path fields read them)."""
        return {
            "approval_timeout_seconds": self.approval_timeout_seconds,
            "poll_interval_seconds": self.poll_interval_seconds,
            "image_first_poll_seconds": self.image_first_poll_seconds,
            "clip_first_poll_seconds": self.clip_first_poll_seconds,
            "max_poll_attempts": self.max_poll_attempts,
            "max_concurrency": self.max_concurrency,
        }

    @property
    def max_concurrency(self) -> int:
        """The Maps' MaxConcurrency: MAP_MAX_CONCURRENCY, and no more than Runway's tier runs
        at once (RUNWAY_CONCURRENCY) when Runway makes the images or the clips."""
        if "runway" in (self.image_provider, self.video_provider):
            return min(self.map_max_concurrency, self.runway_concurrency)
        return self.map_max_concurrency


def _from_env(environ: os._Environ | dict) -> Settings:
    fields = Settings.model_fields
    # On AWS the keys come from Secrets Manager; a plain env value wins.
    from videobot.secrets import resolve_secret_settings

    environ = {**resolve_secret_settings(environ), **{k: v for k, v in environ.items() if v not in (None, "")}}
    values = {name: environ[name.upper()] for name in fields if environ.get(name.upper()) not in (None, "")}
    try:
        settings = Settings(**values)
    except ValidationError as exc:  # never echo values: some are secrets
        problems = ", ".join(
            f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" if e["loc"] else e["msg"] for e in exc.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None
    # The secrets are redacted from every log line.
    from videobot.observability import logger, register_secrets

    for warning in check_models(settings):
        logger.warning("a configured model shuts down soon", extra={"model_warning": warning})
    check_polly_engine(settings)

    register_secrets(
        settings.telegram_bot_token,
        settings.telegram_webhook_secret,
        settings.openai_api_key,
        settings.runwayml_api_secret,
    )
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return _from_env(os.environ)


def reload_settings() -> Settings:
    """Drop the cached settings (the local runner and tests change the environment)."""
    get_settings.cache_clear()
    return get_settings()
