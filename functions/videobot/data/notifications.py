"""Messages already sent (ai_video_bot.notifications): a key per job is claimed once, so a
retried stage never tells the user the same thing twice."""

from __future__ import annotations

from videobot.data.db import Database

TABLE = "ai_video_bot.notifications"


def claim(db: Database, job_id: str, key: str) -> bool:
    """True for exactly one caller per (job, key)."""
    return db.execute(f"INSERT INTO {TABLE} (job_id, key) VALUES (%s, %s) ON CONFLICT DO NOTHING", (job_id, key)) == 1


def release(db: Database, job_id: str, key: str) -> None:
    """Sending failed: the next try may claim the key again."""
    db.execute(f"DELETE FROM {TABLE} WHERE job_id = %s AND key = %s", (job_id, key))
