"""The job, segment and approval-gate rows: every read and write the stages make."""

from __future__ import annotations

import json
import uuid
from typing import Any

from psycopg2.extras import Json, RealDictCursor

from videobot import db
from videobot.errors import JobCancelled, JobNotFound

SCHEMA = "ai_video_bot"
JOBS = f"{SCHEMA}.video_jobs_enhanced"
SEGMENTS = f"{SCHEMA}.video_segments_enhanced"
GATES = f"{SCHEMA}.approval_gates"

# The job statuses, in pipeline order (docs: README "Job statuses").
JOB_STATUSES = (
    "pending", "generating_script", "awaiting_script_approval", "script_approved",
    "generating_images", "awaiting_image_approval", "images_approved",
    "generating_videos", "awaiting_video_approval", "videos_approved",
    "assembling", "delivering", "completed", "cancelled", "failed", "timed_out",
)
TERMINAL_STATUSES = ("completed", "cancelled", "failed", "timed_out")
SEGMENT_STATUSES = ("pending", "image_prompt_ready", "image_ready", "animation_prompt_ready",
                    "video_ready", "failed")
GATE_STAGES = ("script", "images", "videos")
AWAITING_STATUS = {"script": "awaiting_script_approval", "images": "awaiting_image_approval",
                   "videos": "awaiting_video_approval"}
APPROVED_STATUS = {"script": "script_approved", "images": "images_approved", "videos": "videos_approved"}

_JOB_COLUMNS = {
    "status", "script_text", "script_approved", "audio_path", "final_video_path", "completed_at",
    "language", "aspect_ratio", "script_segments", "script_generated_at", "audio_duration",
    "final_video_size_mb", "final_video_duration", "execution_arn", "error_message", "voice", "subtitles",
}
_SEGMENT_COLUMNS = {
    "image_prompt", "image_prompt_generated_at", "image_path", "image_runway_task_id",
    "image_generated_at", "animation_prompt", "animation_prompt_generated_at", "video_path",
    "video_runway_task_id", "video_duration", "video_generated_at", "status", "narration_path",
    "narration_duration", "image_submissions", "video_submissions", "error_message",
    "image_submitted_at", "video_submitted_at", "animation_prompt_draft",
}
NOW = object()  # sentinel: set the column to the current UTC time


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


def _assignments(fields: dict[str, Any], allowed: set[str]) -> tuple[str, list]:
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"unknown columns: {sorted(unknown)}")
    parts, params = [], []
    for name, value in fields.items():
        if value is NOW:
            parts.append(f"{name} = (now() AT TIME ZONE 'utc')")
        else:
            parts.append(f"{name} = %s")
            params.append(Json(value) if isinstance(value, (dict, list)) else value)
    parts.append("updated_at = (now() AT TIME ZONE 'utc')")
    return ", ".join(parts), params


# ---- jobs -------------------------------------------------------------------------------

def create_job(*, user_id: int, chat_id: int, prompt: str, aspect_ratio: str = "16:9",
               language: str | None = None, source_update_id: int | None = None,
               job_id: str | None = None, voice: str | None = None,
               subtitles: bool | None = None) -> tuple[dict, bool]:
    """Insert a job. Returns (job, created); a repeated source_update_id returns the first job."""
    job_id = job_id or new_job_id()
    row = db.query_one(
        f"INSERT INTO {JOBS} (id, user_id, chat_id, prompt, aspect_ratio, language, source_update_id,"
        " voice, subtitles) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (source_update_id) DO NOTHING RETURNING *",
        (job_id, user_id, chat_id, prompt, aspect_ratio, language, source_update_id, voice, subtitles),
    )
    if row:
        return row, True
    existing = db.query_one(f"SELECT * FROM {JOBS} WHERE source_update_id = %s", (source_update_id,))
    return existing, False


def get_job(job_id: str) -> dict:
    row = db.query_one(f"SELECT * FROM {JOBS} WHERE id = %s", (job_id,))
    if row is None:
        raise JobNotFound(f"job {job_id} not found")
    return row


def find_job(job_id: str) -> dict | None:
    return db.query_one(f"SELECT * FROM {JOBS} WHERE id = %s", (job_id,))


def latest_job_for_chat(chat_id: int) -> dict | None:
    return db.query_one(f"SELECT * FROM {JOBS} WHERE chat_id = %s ORDER BY created_at DESC, id LIMIT 1",
                        (chat_id,))


def active_job_for_chat(chat_id: int) -> dict | None:
    return db.query_one(
        f"SELECT * FROM {JOBS} WHERE chat_id = %s AND status <> ALL(%s)"
        " ORDER BY created_at DESC LIMIT 1", (chat_id, list(TERMINAL_STATUSES)))


def update_job(job_id: str, **fields: Any) -> dict:
    """Update a live job. A job already cancelled, failed or timed out is never overwritten
    (the original bot's worker wrote over "cancelled"); that raises JobCancelled."""
    sets, params = _assignments(fields, _JOB_COLUMNS)
    row = db.query_one(
        f"UPDATE {JOBS} SET {sets} WHERE id = %s AND status <> ALL(%s) RETURNING *",
        (*params, job_id, ["cancelled", "failed", "timed_out"]),
    )
    if row is None:
        job = get_job(job_id)
        raise JobCancelled(f"job {job_id} is {job['status']}")
    return row


def finish_job(job_id: str, status: str, **fields: Any) -> dict | None:
    """Move a job to a terminal status unless it is already in one; returns the row if changed."""
    assert status in TERMINAL_STATUSES
    sets, params = _assignments({"status": status, **fields}, _JOB_COLUMNS)
    return db.query_one(
        f"UPDATE {JOBS} SET {sets} WHERE id = %s AND status <> ALL(%s) RETURNING *",
        (*params, job_id, list(TERMINAL_STATUSES)),
    )


def clear_job(job_id: str) -> None:
    """The seed's "clears the DB": delete the segments and gates, erase the job's content.
    The job row stays as a tombstone (status, ids, times) so a stale button or a retried
    update still finds what happened to it."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DELETE FROM {SEGMENTS} WHERE job_id = %s", (job_id,))
        cur.execute(f"DELETE FROM {GATES} WHERE job_id = %s", (job_id,))
        cur.execute(
            f"UPDATE {JOBS} SET script_text = NULL, script_segments = NULL, audio_path = NULL,"
            " final_video_path = NULL, updated_at = (now() AT TIME ZONE 'utc') WHERE id = %s", (job_id,))


def delete_job(job_id: str) -> bool:
    """Remove a job and everything that hangs off it (segments and gates cascade)."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM ai_video_bot.notifications WHERE job_id = %s", (job_id,))
        cur.execute(f"DELETE FROM {JOBS} WHERE id = %s", (job_id,))
        return cur.rowcount == 1


# ---- segments ---------------------------------------------------------------------------

def create_segments(job_id: str, texts: list[str], seconds: float) -> None:
    with db.connect() as conn, conn.cursor() as cur:
        for index, text in enumerate(texts):
            cur.execute(
                f"INSERT INTO {SEGMENTS} (job_id, segment_index, text, start_time, end_time)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (job_id, segment_index) DO NOTHING",
                (job_id, index, text, index * seconds, (index + 1) * seconds),
            )


def get_segments(job_id: str) -> list[dict]:
    return db.query(f"SELECT * FROM {SEGMENTS} WHERE job_id = %s ORDER BY segment_index", (job_id,))


def get_segment(job_id: str, index: int) -> dict:
    row = db.query_one(f"SELECT * FROM {SEGMENTS} WHERE job_id = %s AND segment_index = %s", (job_id, index))
    if row is None:
        raise JobCancelled(f"segment {index} of job {job_id} is gone")
    return row


def update_segment(job_id: str, index: int, **fields: Any) -> dict:
    sets, params = _assignments(fields, _SEGMENT_COLUMNS)
    row = db.query_one(
        f"UPDATE {SEGMENTS} SET {sets} WHERE job_id = %s AND segment_index = %s RETURNING *",
        (*params, job_id, index),
    )
    if row is None:
        raise JobCancelled(f"segment {index} of job {job_id} is gone")
    return row


def segment_counts(job_id: str) -> dict[str, int]:
    return db.query_one(
        f"SELECT count(*) AS segments, count(image_prompt) AS image_prompts, count(image_path) AS images,"
        f" count(animation_prompt) AS animation_prompts, count(video_path) AS videos,"
        f" count(narration_path) AS narrations FROM {SEGMENTS} WHERE job_id = %s", (job_id,))


# ---- approval gates ---------------------------------------------------------------------

def open_gate(job_id: str, stage: str, task_token: str) -> dict:
    """Store the gate's task token (a retried invocation replaces it). Returns the gate row."""
    return db.query_one(
        f"INSERT INTO {GATES} (job_id, stage, task_token) VALUES (%s, %s, %s)"
        " ON CONFLICT (job_id, stage) DO UPDATE SET task_token = EXCLUDED.task_token,"
        " decision = NULL, decided_at = NULL, opened_at = (now() AT TIME ZONE 'utc') RETURNING *",
        (job_id, stage, task_token),
    )


def mark_gate_notified(job_id: str, stage: str) -> bool:
    """True for the one caller that gets to notify the user about this gate."""
    return db.execute(
        f"UPDATE {GATES} SET notified_at = (now() AT TIME ZONE 'utc')"
        " WHERE job_id = %s AND stage = %s AND notified_at IS NULL", (job_id, stage)) == 1


def open_gate_for_job(job_id: str) -> dict | None:
    return db.query_one(f"SELECT * FROM {GATES} WHERE job_id = %s AND decided_at IS NULL", (job_id,))


def get_gate(job_id: str, stage: str) -> dict | None:
    return db.query_one(f"SELECT * FROM {GATES} WHERE job_id = %s AND stage = %s", (job_id, stage))


def close_open_gates(job_id: str, decision: str) -> None:
    db.execute(f"UPDATE {GATES} SET decision = %s, decided_at = (now() AT TIME ZONE 'utc')"
               " WHERE job_id = %s AND decided_at IS NULL", (decision, job_id))


def claim_gate(cur: RealDictCursor, job_id: str, stage: str, decision: str) -> str | None:
    """Inside the caller's transaction: decide an open gate once. Returns its token, or None
    when the gate is not open (already decided, never reached, or another stage)."""
    cur.execute(
        f"UPDATE {GATES} SET decision = %s, decided_at = (now() AT TIME ZONE 'utc')"
        " WHERE job_id = %s AND stage = %s AND decided_at IS NULL RETURNING task_token",
        (decision, job_id, stage),
    )
    row = cur.fetchone()
    return row["task_token"] if row else None


def reopen_gate(job_id: str, stage: str, decision: str) -> None:
    """Undo a claim whose Step Functions call failed: the gate waits again, as does the job."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(f"UPDATE {GATES} SET decision = NULL, decided_at = NULL"
                    " WHERE job_id = %s AND stage = %s AND decision = %s", (job_id, stage, decision))
        if cur.rowcount and decision == "approved":
            cur.execute(f"UPDATE {JOBS} SET status = %s" + (", script_approved = 0" if stage == "script" else "")
                        + " WHERE id = %s AND status = %s",
                        (AWAITING_STATUS[stage], job_id, APPROVED_STATUS[stage]))


def script_segments(job: dict) -> list[str]:
    value = job.get("script_segments")
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])
