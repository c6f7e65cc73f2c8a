"""Telegram updates already handled (ai_video_bot.telegram_updates): Telegram redelivers an
update until it gets a 2xx, and the webhook claims each update_id once."""

from __future__ import annotations

from videobot.data import db

UPDATES = "ai_video_bot.telegram_updates"

# A claim never finished within this time belongs to a webhook that was killed (its Lambda
# timeout is 29 s): Telegram's redelivery may take it over, so the update is not lost.
CLAIM_LEASE_SECONDS = 60


def claim_update(update_id: int) -> bool:
    """True for exactly one handler of this update id at a time."""
    return db.execute(
        f"INSERT INTO {UPDATES} AS u (update_id) VALUES (%s) ON CONFLICT (update_id) DO UPDATE"
        " SET received_at = (now() AT TIME ZONE 'utc')"
        " WHERE u.handled_at IS NULL AND u.received_at < (now() AT TIME ZONE 'utc') - %s * interval '1 second'",
        (update_id, CLAIM_LEASE_SECONDS)) == 1


def finish_update(update_id: int) -> None:
    db.execute(f"UPDATE {UPDATES} SET handled_at = (now() AT TIME ZONE 'utc') WHERE update_id = %s", (update_id,))


def release_update(update_id: int) -> None:
    """Handling failed: forget the claim so Telegram's redelivery is handled."""
    db.execute(f"DELETE FROM {UPDATES} WHERE update_id = %s AND handled_at IS NULL", (update_id,))
