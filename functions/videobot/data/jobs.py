"""The job rows (ai_video_bot.video_jobs_enhanced): the seed's columns plus what the pipeline
adds. A job that ended (cancelled, failed, timed out) is never written over."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg2.extras import RealDictCursor

from videobot.data import ledger
from videobot.data.db import Database, assignments
from videobot.data.rows import Job
from videobot.errors import JobCancelled, JobNotFound
from videobot.pipeline import ENDED_EARLY, TERMINAL_STATUSES, GateStage, JobStatus

SCHEMA = "ai_video_bot"
JOBS = f"{SCHEMA}.video_jobs_enhanced"

_COLUMNS = {
    "status",
    "script_text",
    "script_approved",
    "audio_path",
    "final_video_path",
    "completed_at",
    "language",
    "aspect_ratio",
    "script_segments",
    "script_generated_at",
    "audio_duration",
    "final_video_size_mb",
    "final_video_duration",
    "execution_arn",
    "error_message",
    "voice",
    "subtitles",
    "video_model",
    "prompt",  # a voice topic's words, stored by TranscribeVoiceTopic
    "end_notice",  # how it ended, as the user is told it (with the terminal status, in one update)
}


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


def create_job(
    db: Database,
    *,
    user_id: int,
    chat_id: int,
    prompt: str,
    aspect_ratio: str = "16:9",
    language: str | None = None,
    source_update_id: int | None = None,
    job_id: str | None = None,
    voice: str | None = None,
    subtitles: bool | None = None,
    video_model: str | None = None,
    voice_file_id: str | None = None,
) -> tuple[Job, bool]:
    """Insert a job. Returns (job, created); a repeated source_update_id returns the first job.
    A voice topic has `voice_file_id` (the Telegram file) and an empty prompt until
    TranscribeVoiceTopic stores the words."""
    job_id = job_id or new_job_id()
    row = db.query_one(
        f"INSERT INTO {JOBS} (id, user_id, chat_id, prompt, aspect_ratio, language, source_update_id,"
        " voice, subtitles, video_model, voice_file_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (source_update_id) DO NOTHING RETURNING *",
        (
            job_id,
            user_id,
            chat_id,
            prompt,
            aspect_ratio,
            language,
            source_update_id,
            voice,
            subtitles,
            video_model,
            voice_file_id,
        ),
    )
    if row:
        return Job.from_row(row), True
    existing = job_for_update(db, source_update_id)  # the job whose source_update_id conflicted
    if existing is None:
        raise JobNotFound(f"the job of update {source_update_id} is gone")
    return existing, False


def get_job(db: Database, job_id: str) -> Job:
    job = find_job(db, job_id)
    if job is None:
        raise JobNotFound(f"job {job_id} not found")
    return job


def find_job(db: Database, job_id: str) -> Job | None:
    return Job.from_row(db.query_one(f"SELECT * FROM {JOBS} WHERE id = %s", (job_id,)))


def job_for_update(db: Database, update_id: int | None) -> Job | None:
    """The job a Telegram update started, if any."""
    return Job.from_row(db.query_one(f"SELECT * FROM {JOBS} WHERE source_update_id = %s", (update_id,)))


def latest_job_for_chat(db: Database, chat_id: int) -> Job | None:
    return Job.from_row(
        db.query_one(f"SELECT * FROM {JOBS} WHERE chat_id = %s ORDER BY created_at DESC, id LIMIT 1", (chat_id,))
    )


def recent_jobs_for_chat(db: Database, chat_id: int, limit: int) -> list[Job]:
    return [
        Job.from_row(r)
        for r in db.query(
            f"SELECT * FROM {JOBS} WHERE chat_id = %s ORDER BY created_at DESC, id LIMIT %s", (chat_id, limit)
        )
    ]


def active_job_for_chat(db: Database, chat_id: int, cur=None) -> Job | None:
    sql = f"SELECT * FROM {JOBS} WHERE chat_id = %s AND status <> ALL(%s) ORDER BY created_at DESC LIMIT 1"
    params = (chat_id, list(TERMINAL_STATUSES))
    if cur is None:
        return Job.from_row(db.query_one(sql, params))
    cur.execute(sql, params)
    row = cur.fetchone()
    return Job.from_row(dict(zip([c.name for c in cur.description], row, strict=True))) if row else None


def job_ids_of_user_since(db: Database, user_id: int, hours: int) -> list[str]:
    return [
        r["id"]
        for r in db.query(
            f"SELECT id FROM {JOBS} WHERE user_id = %s"
            " AND created_at > (now() AT TIME ZONE 'utc') - make_interval(hours => %s)",
            (user_id, hours),
        )
    ]


def job_ids_since(db: Database, hours: int) -> list[str]:
    """Every user's jobs created in the last `hours` (the bot-wide daily budget)."""
    return [
        r["id"]
        for r in db.query(
            f"SELECT id FROM {JOBS} WHERE created_at > (now() AT TIME ZONE 'utc') - %s * interval '1 hour'", (hours,)
        )
    ]


def lock_chat(cur, chat_id: int) -> None:
    """Inside the caller's transaction: one topic at a time per chat (Telegram may deliver a
    chat's updates in parallel), held until the transaction ends."""
    cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"telegram-chat:{chat_id}",))


def update_started(cur, update_id: int) -> bool:
    """Inside the caller's transaction: whether this Telegram update already started a job."""
    cur.execute(f"SELECT 1 FROM {JOBS} WHERE source_update_id = %s", (update_id,))
    return cur.fetchone() is not None


def recent_start_times(cur, user_id: int, limit: int) -> list[datetime]:
    """Inside the caller's transaction: when the user's latest `limit` jobs of the last 24 h
    were created, newest first."""
    cur.execute(
        f"SELECT created_at FROM {JOBS} WHERE user_id = %s"
        " AND created_at > (now() AT TIME ZONE 'utc') - interval '24 hours'"
        " ORDER BY created_at DESC LIMIT %s",
        (user_id, limit),
    )
    return [row[0] for row in cur.fetchall()]


def update_job(db: Database, job_id: str, **fields: Any) -> Job:
    """Update a live job. A job already cancelled, failed or timed out is never overwritten
    (the original bot's worker wrote over "cancelled"); that raises JobCancelled."""
    sets, params = assignments(fields, _COLUMNS)
    row = db.query_one(
        f"UPDATE {JOBS} SET {sets} WHERE id = %s AND status <> ALL(%s) RETURNING *",
        (*params, job_id, list(ENDED_EARLY)),
    )
    if row is None:
        raise JobCancelled(f"job {job_id} is {get_job(db, job_id).status}")
    return Job.from_row(row)


def mark_gate_approved(cur, job_id: str, stage: GateStage) -> None:
    """Inside the caller's transaction: the job moves past an approved gate."""
    cur.execute(
        f"UPDATE {JOBS} SET status = %s, updated_at = (now() AT TIME ZONE 'utc')"
        + (", script_approved = 1" if stage == GateStage.SCRIPT else "")
        + " WHERE id = %s AND status <> ALL(%s)",
        (stage.approved, job_id, list(TERMINAL_STATUSES)),
    )


def unmark_gate_approved(cur, job_id: str, stage: GateStage) -> None:
    """Inside the caller's transaction: undo mark_gate_approved (the gate reopened)."""
    cur.execute(
        f"UPDATE {JOBS} SET status = %s"
        + (", script_approved = 0" if stage == GateStage.SCRIPT else "")
        + " WHERE id = %s AND status = %s",
        (stage.awaiting, job_id, stage.approved),
    )


def finish_job(db: Database, job_id: str, status: JobStatus, **fields: Any) -> Job | None:
    """Move a job to a terminal status unless it is already in one; returns the row if changed."""
    if status not in TERMINAL_STATUSES:
        raise ValueError(f"{status!r} is not a terminal status")
    sets, params = assignments({"status": status, **fields}, _COLUMNS)
    with db.connect() as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(
            f"UPDATE {JOBS} SET {sets} WHERE id = %s AND status <> ALL(%s) RETURNING *",
            (*params, job_id, list(TERMINAL_STATUSES)),
        )
        row = cur.fetchone()
        if row is not None:  # what the job had not spent of its hold no longer counts
            ledger.release_hold(cur, job_id)
    return Job.from_row(row)


def mark_told(db: Database, job_id: str) -> None:
    """Telegram confirmed the notice of the job's end."""
    db.execute(f"UPDATE {JOBS} SET end_told_at = (now() AT TIME ZONE 'utc') WHERE id = %s", (job_id,))


def untold_ends(db: Database, older_than_seconds: float, limit: int = 100) -> list[Job]:
    """Jobs that ended without a video at least `older_than_seconds` ago whose user was not
    told yet (the notice failed, or the Lambda that sends it died)."""
    rows = db.query(
        f"SELECT * FROM {JOBS} WHERE end_notice IS NOT NULL AND end_told_at IS NULL"
        " AND completed_at < (now() AT TIME ZONE 'utc') - %s * interval '1 second'"
        " ORDER BY completed_at LIMIT %s",
        (older_than_seconds, limit),
    )
    return [Job.from_row(row) for row in rows]


def clear_job(db: Database, job_id: str) -> None:
    """The seed's "clears the DB": delete the segments and gates, erase the job's content.
    The job row stays as a tombstone (status, ids, times, the reason it ended, and the topic,
    which /history lists) so a stale button or a retried update still finds what happened to
    it; its vendor_usage cost lines stay for the daily limits."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DELETE FROM {SCHEMA}.video_segments_enhanced WHERE job_id = %s", (job_id,))
        cur.execute(f"DELETE FROM {SCHEMA}.approval_gates WHERE job_id = %s", (job_id,))
        cur.execute(
            f"UPDATE {JOBS} SET script_text = NULL, script_segments = NULL, audio_path = NULL,"
            " final_video_path = NULL, voice_file_id = NULL, updated_at = (now() AT TIME ZONE 'utc') WHERE id = %s",
            (job_id,),
        )


def delete_job(db: Database, job_id: str) -> bool:
    """Remove a job and everything that hangs off it (segments and gates cascade)."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DELETE FROM {SCHEMA}.notifications WHERE job_id = %s", (job_id,))
        cur.execute(f"DELETE FROM {JOBS} WHERE id = %s", (job_id,))
        return cur.rowcount == 1
