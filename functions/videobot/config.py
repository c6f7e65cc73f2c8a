"""Configuration, read from the environment once and validated (pydantic)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from videobot.errors import ConfigurationError

ProviderName = Literal["offline", "openai", "runway", "polly"]


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

    # Pipeline knobs, passed into each execution's input.
    approval_timeout_seconds: int = Field(600, ge=1)
    poll_interval_seconds: int = Field(10, ge=0)
    max_poll_attempts: int = Field(90, ge=1)
    max_resubmits: int = Field(2, ge=0)
    map_max_concurrency: int = Field(10, ge=1, le=40)
    segment_count: int = 10
    segment_seconds: float = 5.0
    aspect_ratio: Literal["16:9", "9:16"] = "16:9"

    # AWS.
    state_machine_arn: str | None = None

    # FFmpeg: FFMPEG_PATH, else /opt/bin/ffmpeg (the Lambda layer), else imageio-ffmpeg.
    ffmpeg_path: str | None = None

    # Assembly (media.py): narration fitting, subtitles, transitions, loudness, music, size cap.
    music_path: str | None = None                                # optional bed, looped and ducked
    music_gain_db: float = Field(-8.0, ge=-40, le=0)             # the bed's level before ducking
    narration_max_tempo: float = Field(1.25, ge=1.0, le=2.0)     # speed-up limit before a cut
    subtitles: bool = True                                       # burn the segment texts in
    fade_seconds: float = Field(0.25, ge=0, le=1.0)              # per-clip fade from/to black
    target_lufs: float = Field(-16.0, ge=-30, le=-9)             # integrated loudness
    true_peak_db: float = Field(-1.5, ge=-9, le=-1)              # ceiling, dBTP
    max_video_bytes: int = Field(50_000_000, ge=1_000_000, le=50_000_000)  # Telegram's sendVideo cap
    max_video_bitrate: int = Field(4_000_000, ge=300_000)        # bit/s; lowered further to fit the cap

    @model_validator(mode="after")
    def _resolve_providers(self) -> "Settings":
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
            "max_poll_attempts": self.max_poll_attempts,
            "max_concurrency": self.map_max_concurrency,
        }


def _from_env(environ: os._Environ | dict) -> Settings:
    fields = Settings.model_fields
    values = {name: environ[name.upper()] for name in fields if environ.get(name.upper()) not in (None, "")}
    try:
        return Settings(**values)
    except ValidationError as exc:  # never echo values: some are secrets
        problems = ", ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"invalid configuration: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return _from_env(os.environ)


def reload_settings() -> Settings:
    """Drop the cached settings (the local runner and tests change the environment)."""
    get_settings.cache_clear()
    return get_settings()
