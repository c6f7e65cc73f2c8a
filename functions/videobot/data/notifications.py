"""Messages the pipeline sends once (ai_video_bot.notifications): a key per job is claimed by
one sender at a time, and recorded as sent only after Telegram confirmed it. A claim left
unconfirmed (its sender was killed mid-send) is taken over once its lease has passed, so the
message is sent again: a rare duplicate, never a lost message."""

from __future__ import annotations

from videobot.data.db import Database

TABLE = "ai_video_bot.notifications"

# Longer than the slowest send the Telegram client allows (a 50 MB upload:
# TELEGRAM_MEDIA_WRITE_TIMEOUT_SECONDS 60 s, plus the answer): a claim this old and still
# unconfirmed belongs to a sender that died.
CLAIM_LEASE_SECONDS = 120

CLAIMED, SENT, IN_FLIGHT = "claimed", "sent", "in_flight"


def claim_state(db: Database, job_id: str, key: str) -> str:
    """CLAIMED for exactly one sender at a time; SENT once a send was confirmed; IN_FLIGHT while
    another sender holds an unconfirmed claim within its lease."""
    taken = db.execute(
        f"INSERT INTO {TABLE} AS n (job_id, key) VALUES (%s, %s) ON CONFLICT (job_id, key) DO UPDATE"
        " SET claimed_at = (now() AT TIME ZONE 'utc')"
        " WHERE n.sent_at IS NULL AND n.claimed_at < (now() AT TIME ZONE 'utc') - %s * interval '1 second'",
        (job_id, key, CLAIM_LEASE_SECONDS),
    )
    if taken == 1:
        return CLAIMED
    row = db.query_one(f"SELECT sent_at FROM {TABLE} WHERE job_id = %s AND key = %s", (job_id, key))
    return SENT if row and row["sent_at"] is not None else IN_FLIGHT


def claim(db: Database, job_id: str, key: str) -> bool:
    """True for exactly one caller per (job, key) at a time (see `claim_state`)."""
    return claim_state(db, job_id, key) == CLAIMED


def confirm(db: Database, job_id: str, key: str) -> None:
    """Telegram confirmed the message: it is sent, for good."""
    db.execute(f"UPDATE {TABLE} SET sent_at = (now() AT TIME ZONE 'utc') WHERE job_id = %s AND key = %s", (job_id, key))


def release(db: Database, job_id: str, key: str) -> None:
    """Sending failed: the next try may claim the key again."""
    db.execute(f"DELETE FROM {TABLE} WHERE job_id = %s AND key = %s AND sent_at IS NULL", (job_id, key))


def was_sent(db: Database, job_id: str, key: str) -> bool:
    row = db.query_one(f"SELECT sent_at FROM {TABLE} WHERE job_id = %s AND key = %s", (job_id, key))
    return bool(row and row["sent_at"] is not None)
