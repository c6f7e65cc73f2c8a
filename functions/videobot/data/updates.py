"""Telegram updates already handled (ai_video_bot.telegram_updates): Telegram redelivers an
update until it gets a 2xx, and the webhook claims each update_id once."""

from __future__ import annotations

from videobot.data.db import Database

UPDATES = "ai_video_bot.telegram_updates"

# A claim never finished within this time belongs to a webhook that was killed (its Lambda
# timeout is 29 s): Telegram's redelivery may take it over, so the update is not lost.
CLAIM_LEASE_SECONDS = 60


CLAIMED, HANDLED, IN_PROGRESS = "claimed", "handled", "in_progress"


def claim_update(db: Database, update_id: int) -> bool:
    """True for exactly one handler of this update id at a time."""
    return (
        db.execute(
            f"INSERT INTO {UPDATES} AS u (update_id) VALUES (%s) ON CONFLICT (update_id) DO UPDATE"
            " SET received_at = (now() AT TIME ZONE 'utc')"
            " WHERE u.handled_at IS NULL AND u.received_at < (now() AT TIME ZONE 'utc') - %s * interval '1 second'",
            (update_id, CLAIM_LEASE_SECONDS),
        )
        == 1
    )


def claim_state(db: Database, update_id: int) -> str:
    """CLAIMED for exactly one handler at a time; HANDLED once an earlier delivery finished it;
    IN_PROGRESS while another handler holds an unfinished claim (inside its lease), which is
    answered non-2xx so Telegram delivers it again: an unfinished claim may never finish."""
    if claim_update(db, update_id):
        return CLAIMED
    rows = db.query(f"SELECT handled_at FROM {UPDATES} WHERE update_id = %s", (update_id,))
    if rows and rows[0]["handled_at"] is not None:
        return HANDLED
    return IN_PROGRESS  # held by another handler, or released a moment ago: either way, redeliver


def finish_update(db: Database, update_id: int) -> None:
    db.execute(f"UPDATE {UPDATES} SET handled_at = (now() AT TIME ZONE 'utc') WHERE update_id = %s", (update_id,))


def release_update(db: Database, update_id: int) -> None:
    """Handling failed: forget the claim so Telegram's redelivery is handled."""
    db.execute(f"DELETE FROM {UPDATES} WHERE update_id = %s AND handled_at IS NULL", (update_id,))


def purge_updates(db: Database, retention_hours: int) -> int:
    """Forget update ids received more than `retention_hours` ago (Telegram redelivers an update
    for at most 24 hours): the table stays the size of two days' traffic."""
    return db.execute(
        f"DELETE FROM {UPDATES} WHERE received_at < (now() AT TIME ZONE 'utc') - %s * interval '1 hour'",
        (retention_hours,),
    )
