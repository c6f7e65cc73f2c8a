"""Each user's /settings (videobot.data.preferences): aspect ratio,
narration voice, narration language, subtitles and video model. `control.start_job` copies them onto the
next job's row, where the stages read them; a setting left unset means the deployment's default."""

from __future__ import annotations

from dataclasses import dataclass

from videobot.config import Settings
from videobot.data import preferences as data
from videobot.data.db import Database

ASPECT_RATIOS = ("16:9", "9:16")
LANGUAGES = ("auto", "ru", "en")


@dataclass(frozen=True)
class Preferences:
    aspect_ratio: str | None = None
    voice: str | None = None
    narration_language: str = "auto"
    subtitles: bool | None = None
    video_model: str | None = None

    @property
    def job_language(self) -> str | None:
        """The job's language column: None lets the script follow the topic."""
        return None if self.narration_language == "auto" else self.narration_language


def get(db: Database, user_id: int | None) -> Preferences:
    if user_id is None:
        return Preferences()
    row = data.get(db, user_id)
    return Preferences(**row) if row else Preferences()


def video_model_for(db: Database, user_id: int | None, settings: Settings) -> str:
    """The video model the user's next job uses: their choice while the operator still offers it
    (RUNWAY_VIDEO_MODELS), else the deployment's RUNWAY_VIDEO_MODEL."""
    chosen = get(db, user_id).video_model
    return chosen if chosen in settings.runway.video_model_choices else settings.runway.video_model


def choose(
    db: Database, user_id: int, field: str, value, *, voices: tuple[str, ...], video_models: tuple[str, ...]
) -> Preferences:
    """Set one setting, after checking it is one the bot offers (`voices`: the speech
    provider's; `video_models`: the operator's choices)."""
    allowed = {
        "aspect_ratio": ASPECT_RATIOS,
        "voice": voices,
        "narration_language": LANGUAGES,
        "subtitles": (True, False),
        "video_model": video_models,
    }
    if field not in allowed or value not in allowed[field]:
        raise ValueError(f"{field}={value!r} is not a setting this bot offers")
    data.set_field(db, user_id, field, value)
    return get(db, user_id)
