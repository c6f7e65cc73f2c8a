"""Configuration, read from the environment once and validated (pydantic)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from videobot.errors import ConfigurationError

TELEGRAM_UPLOAD_LIMIT_BYTES = 50_000_000  # sendVideo by multipart upload
# The seed's 10 segments of 5 s. Not a setting: the schema's CHECK (segment_index 0-9), the
# LLM's structured output and the 50-second video all hold it.
SEGMENT_COUNT = 10


class Settings(BaseModel):
    # Storage: S3 when MEDIA_BUCKET is set, else a local folder.
    media_bucket: str | None = None
    media_dir: str = ".local/media"
    presign_seconds: int = Field(3600, ge=60, le=3600)

    # PostgreSQL.
    database_url: str | None = None

    # Providers: offline unless a vendor key is present; *_PROVIDER overrides.
    llm_provider: str | None = None
    image_provider: str | None = None
    video_provider: str | None = None
    tts_provider: str | None = None
    openai_api_key: str | None = Field(None, repr=False)
    runwayml_api_secret: str | None = Field(None, repr=False)
    offline_spool_dir: str = ".local/offline-tasks"
    # Offline vendors answer at once; a scale > 0 makes them take the seed's vendor times
    # multiplied by it (bench/pipeline). 1.0 is real time.
    offline_latency_scale: float = Field(0.0, ge=0.0, le=10.0)

    # Pipeline knobs, passed into each execution's input.
    approval_timeout_seconds: int = Field(600, ge=1)
    poll_interval_seconds: int = Field(10, ge=0)
    # The first check of a vendor task waits about the vendor's usual time (Runway: images
    # 12-30 s, clips 30-60 s); checking earlier only adds state transitions.
    image_first_poll_seconds: int = Field(20, ge=0)
    clip_first_poll_seconds: int = Field(40, ge=0)
    max_poll_attempts: int = Field(90, ge=1)
    max_resubmits: int = Field(2, ge=0)
    map_max_concurrency: int = Field(10, ge=1, le=40)
    segment_seconds: float = 5.0
    aspect_ratio: Literal["16:9", "9:16"] = "16:9"

    # ---- Vendors: OpenAI (Responses, speech, transcription), Runway, Polly ----
    # Base URLs: unset means the vendor's public API; tests point them at local fakes.
    openai_base_url: str | None = None
    openai_model: str = "gpt-5.4-mini"
    openai_reasoning_effort: str = "low"              # "default": send none, use the model's
    openai_max_output_tokens: int = Field(6000, ge=500)
    openai_timeout_seconds: float = Field(25.0, gt=0)  # per request; see the Lambda timeouts
    openai_max_retries: int = Field(2, ge=0, le=5)     # the SDK's backoff on 429/5xx, never 400
    openai_tts_model: str = "gpt-4o-mini-tts"
    openai_tts_voice: str = "coral"
    openai_tts_instructions: str = ("Speak like a warm, lively narrator of a short advert: clear, "
                                    "friendly, at an even pace.")
    openai_tts_format: Literal["mp3", "wav", "aac", "flac", "opus"] = "mp3"
    runwayml_base_url: str | None = None
    runway_api_version: str = "2024-11-06"
    runway_image_model: str = "gen4_image"
    runway_video_model: str = "gen4_turbo"
    runway_timeout_seconds: float = Field(20.0, gt=0)
    runway_max_retries: int = Field(3, ge=0, le=6)     # on 429/5xx, for creates and polls alike
    polly_voice_ru: str = "Tatyana"
    polly_voice_en: str = "Joanna"
    polly_engine: Literal["standard", "neural"] = "standard"  # Tatyana is a standard voice

    # AWS.
    state_machine_arn: str | None = None

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
    # A button tap is answered (answerCallbackQuery) with its outcome if that is known within
    # this time, else with "working on it" at once and the outcome follows in the chat.
    callback_answer_seconds: float = Field(1.0, ge=0, le=10)

    # ---- Limits per user ----
    # Topics one Telegram user may start in any 24 hours (each costs about 3 USD); 0: no limit.
    max_jobs_per_user_per_day: int = Field(10, ge=0)
    # The vendor spend (estimated USD, videobot/usage.py) one user may cause in any 24 hours;
    # a new topic is refused once it is reached. 0: no budget.
    max_usd_per_user_per_day: float = Field(30.0, ge=0)
    # Bot-wide, every user together (0 = no limit): the ceiling on a day's vendor bill.
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
    music_path: str | None = None                                # optional bed, looped and ducked
    music_gain_db: float = Field(-8.0, ge=-40, le=0)             # the bed's level before ducking
    narration_max_tempo: float = Field(1.25, ge=1.0, le=2.0)     # speed-up limit before a cut
    subtitles: bool = True                                       # burn the segment texts in
    fade_seconds: float = Field(0.25, ge=0, le=1.0)              # per-clip fade from/to black
    target_lufs: float = Field(-16.0, ge=-30, le=-9)             # integrated loudness
    true_peak_db: float = Field(-1.5, ge=-9, le=-1)              # ceiling, dBTP
    max_video_bytes: int = Field(TELEGRAM_UPLOAD_LIMIT_BYTES, ge=1_000_000, le=TELEGRAM_UPLOAD_LIMIT_BYTES)
    max_video_bitrate: int = Field(4_000_000, ge=300_000)        # bit/s; lowered further to fit the cap

    # ---- Steering: voice topics, per-user settings, gate feedback ----
    openai_transcribe_model: str = "gpt-4o-mini-transcribe"   # voice-note topics (needs OPENAI_API_KEY)
    max_voice_bytes: int = Field(20 * 1024 * 1024, ge=1, le=20 * 1024 * 1024)  # getFile's download cap
    history_jobs: int = Field(5, ge=1, le=10)                  # jobs /history lists
    max_gate_revisions: int = Field(5, ge=0, le=20)            # feedback rounds per gate and job

    @model_validator(mode="after")
    def _resolve_providers(self) -> Settings:
        has_openai = bool(self.openai_api_key)
        has_runway = bool(self.runwayml_api_secret)
        self.llm_provider = (self.llm_provider or ("openai" if has_openai else "offline")).lower()
        self.image_provider = (self.image_provider or ("runway" if has_runway else "offline")).lower()
        self.video_provider = (self.video_provider or ("runway" if has_runway else "offline")).lower()
        self.tts_provider = (self.tts_provider or ("openai" if has_openai else "offline")).lower()
        return self

    def execution_settings(self) -> dict:
        """The knobs every execution carries in its input (ASL *Path fields read them)."""
        return {
            "approval_timeout_seconds": self.approval_timeout_seconds,
            "poll_interval_seconds": self.poll_interval_seconds,
            "image_first_poll_seconds": self.image_first_poll_seconds,
            "clip_first_poll_seconds": self.clip_first_poll_seconds,
            "max_poll_attempts": self.max_poll_attempts,
            "max_concurrency": self.map_max_concurrency,
        }


def _from_env(environ: os._Environ | dict) -> Settings:
    fields = Settings.model_fields
    # On AWS the keys come from Secrets Manager; a plain env value wins.
    from videobot.secrets import resolve_secret_settings

    environ = {**resolve_secret_settings(environ), **{k: v for k, v in environ.items() if v not in (None, "")}}
    values = {name: environ[name.upper()] for name in fields if environ.get(name.upper()) not in (None, "")}
    try:
        settings = Settings(**values)
    except ValidationError as exc:  # never echo values: some are secrets
        problems = ", ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"invalid configuration: {problems}") from None
    # The secrets are redacted from every log line.
    from videobot.observability import register_secrets

    register_secrets(settings.telegram_bot_token, settings.telegram_webhook_secret, settings.openai_api_key,
                     settings.runwayml_api_secret)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return _from_env(os.environ)


def reload_settings() -> Settings:
    """Drop the cached settings (the local runner and tests change the environment)."""
    get_settings.cache_clear()
    return get_settings()
