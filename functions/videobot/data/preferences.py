"""Each user's /settings (ai_video_bot.user_settings). NULL means the deployment's default."""

from __future__ import annotations

from videobot.data.db import Database

TABLE = "ai_video_bot.user_settings"
FIELDS = ("aspect_ratio", "voice", "narration_language", "subtitles", "video_model")


def get(db: Database, user_id: int) -> dict | None:
    return db.query_one(f"SELECT {', '.join(FIELDS)} FROM {TABLE} WHERE user_id = %s", (user_id,))


def set_field(db: Database, user_id: int, field: str, value) -> None:
    if field not in FIELDS:
        raise ValueError(f"unknown setting {field!r}")
    db.execute(
        f"INSERT INTO {TABLE} (user_id, {field}) VALUES (%s, %s)"
        f" ON CONFLICT (user_id) DO UPDATE SET {field} = EXCLUDED.{field}, updated_at = (now() AT TIME ZONE 'utc')",
        (user_id, value),
    )
