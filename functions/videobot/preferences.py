"""Each user's /settings (table ai_video_bot.user_settings, migration 0006): aspect ratio,
narration voice, narration language and subtitles. `control.start_job` copies them onto the
next job's row, where the stages read them; a setting left unset means the deployment's default."""

from __future__ import annotations

from dataclasses import dataclass

from videobot import db

TABLE = "ai_video_bot.user_settings"
ASPECT_RATIOS = ("16:9", "9:16")
LANGUAGES = ("auto", "ru", "en")


@dataclass(frozen=True)
class Preferences:
    aspect_ratio: str | None = None
    voice: str | None = None
    narration_language: str = "auto"
    subtitles: bool | None = None

    @property
    def job_language(self) -> str | None:
        """The job's language column: None lets the script follow the topic."""
        return None if self.narration_language == "auto" else self.narration_language


def get(user_id: int | None) -> Preferences:
    if user_id is None:
        return Preferences()
    row = db.query_one(f"SELECT aspect_ratio, voice, narration_language, subtitles FROM {TABLE} WHERE user_id = %s",
                       (user_id,))
    return Preferences(**row) if row else Preferences()


def choose(user_id: int, field: str, value) -> Preferences:
    """Set one setting, after checking it is one the bot offers."""
    from videobot.providers import speech_voices

    allowed = {"aspect_ratio": ASPECT_RATIOS, "voice": speech_voices(), "narration_language": LANGUAGES,
               "subtitles": (True, False)}
    if field not in allowed or value not in allowed[field]:
        raise ValueError(f"{field}={value!r} is not a setting this bot offers")
    db.execute(
        f"INSERT INTO {TABLE} (user_id, {field}) VALUES (%s, %s)"
        f" ON CONFLICT (user_id) DO UPDATE SET {field} = EXCLUDED.{field}, updated_at = (now() AT TIME ZONE 'utc')",
        (user_id, value))
    return get(user_id)
