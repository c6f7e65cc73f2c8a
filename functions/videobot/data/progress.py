"""One progress message per job and stage (ai_video_bot.telegram_progress), edited in place.
A Map's ten iterations report at once: the row elects who sends the first message and who
edits it, and keeps edits under Telegram's per-chat rate."""

from __future__ import annotations

from videobot.data.db import Database

TABLE = "ai_video_bot.telegram_progress"


def claim_first(db: Database, job_id: str, stage: str, done: int, total: int, queued: int = 0) -> bool:
    """True for the one report that sends the stage's first message."""
    return (
        db.query_one(
            f"INSERT INTO {TABLE} (job_id, stage, done, total, queued) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING job_id",
            (job_id, stage, done, total, queued),
        )
        is not None
    )


def forget(db: Database, job_id: str, stage: str) -> None:
    db.execute(f"DELETE FROM {TABLE} WHERE job_id = %s AND stage = %s", (job_id, stage))


def sent(db: Database, job_id: str, stage: str, message_id: int) -> None:
    db.execute(f"UPDATE {TABLE} SET message_id = %s WHERE job_id = %s AND stage = %s", (message_id, job_id, stage))


def claim_edit(
    db: Database, job_id: str, stage: str, done: int, total: int, min_seconds: int, queued: int = 0
) -> int | None:
    """The message to edit to `done` (and `queued` in the vendor's queue), or None: never
    backwards (the same `done` with another `queued` count is an edit), at most every
    `min_seconds` (always for the last step)."""
    row = db.query_one(
        f"UPDATE {TABLE} SET done = %s, queued = %s, edited_at = (now() AT TIME ZONE 'utc')"
        " WHERE job_id = %s AND stage = %s AND message_id IS NOT NULL"
        " AND (done < %s OR (done = %s AND queued <> %s))"
        " AND (%s OR edited_at <= (now() AT TIME ZONE 'utc') - make_interval(secs => %s)) RETURNING message_id",
        (done, queued, job_id, stage, done, done, queued, done >= total, min_seconds),
    )
    return row["message_id"] if row else None
