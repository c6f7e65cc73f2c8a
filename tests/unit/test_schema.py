"""The schema: the seed's tables and columns, its monitoring queries verbatim, idempotent migrations."""

from __future__ import annotations

import random

import psycopg2
import pytest

from local.cli import SEED_QUERY_JOBS, SEED_QUERY_SEGMENTS
from tests.helpers import new_job
from videobot.data import jobs
from videobot.data import segments as segment_rows
from videobot.migrate import migrate, migration_files

SEED_JOB_COLUMNS = {
    "id",
    "user_id",
    "chat_id",
    "prompt",
    "status",
    "script_text",
    "script_approved",
    "audio_path",
    "final_video_path",
    "created_at",
    "updated_at",
    "completed_at",
}
SEED_SEGMENT_COLUMNS = {
    "id",
    "job_id",
    "segment_index",
    "text",
    "start_time",
    "end_time",
    "image_prompt",
    "image_prompt_generated_at",
    "image_path",
    "image_runway_task_id",
    "image_generated_at",
    "animation_prompt",
    "animation_prompt_generated_at",
    "video_path",
    "video_runway_task_id",
    "video_duration",
    "video_generated_at",
    "status",
}


def _columns(db, table: str) -> dict[str, str]:
    rows = db.query(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'ai_video_bot' AND table_name = %s",
        (table,),
    )
    return {r["column_name"]: r["data_type"] for r in rows}


def test_seed_columns_exist_with_bigint_telegram_ids(db):
    job_cols = _columns(db, "video_jobs_enhanced")
    seg_cols = _columns(db, "video_segments_enhanced")
    assert set(job_cols) >= SEED_JOB_COLUMNS
    assert set(seg_cols) >= SEED_SEGMENT_COLUMNS
    assert job_cols["user_id"] == job_cols["chat_id"] == "bigint"
    assert job_cols["script_approved"] == "integer"
    assert job_cols["created_at"].startswith("timestamp")


def test_migrations_are_idempotent(db):
    # Given the schema is already migrated (session fixture), When migrate runs again
    assert migrate(db) == []
    # Then every file is recorded once
    versions = [v for v, _ in migration_files()]
    recorded = [r["version"] for r in db.query("SELECT version FROM public.video_bot_schema_migrations ORDER BY 1")]
    assert recorded == sorted(versions)


def test_seed_monitoring_queries_run_verbatim(db):
    # Given a job with the seed's example id and its ten segments, one of them further along
    jobs.delete_job(db, "abc-123")
    new_job(db, job_id="abc-123", prompt="Реклама кофе")
    segment_rows.create_segments(db, "abc-123", [f"part {i}" for i in range(10)], 5.0)
    segment_rows.update_segment(db, "abc-123", 0, image_prompt="a cup", status="image_prompt_ready")

    # When the seed's two queries run exactly as written
    recent = db.query(SEED_QUERY_JOBS)
    segments = db.query(SEED_QUERY_SEGMENTS)

    # Then they show the job and its segments
    assert "abc-123" in [r["id"] for r in recent]
    assert [s["segment_index"] for s in segments] == list(range(10))
    assert segments[0]["img_prompt"] == "✅" and segments[0]["status"] == "image_prompt_ready"
    assert segments[1]["img_prompt"] == "⏳" and segments[1]["video"] == "⏳"
    jobs.delete_job(db, "abc-123")


def test_status_values_are_constrained(db):
    job = new_job(db)
    with pytest.raises(psycopg2.errors.CheckViolation):
        db.execute(f"UPDATE {jobs.JOBS} SET status = 'bogus' WHERE id = %s", (job["id"],))


def test_real_telegram_ids_fit(db):
    big = 7_999_999_999  # beyond 32 bits, as real ids are today
    job = new_job(db, user_id=big, chat_id=-1_001_234_567_890)
    assert jobs.get_job(db, job["id"])["user_id"] == big


def test_same_update_creates_one_job(db):
    update_id = random.randrange(10**12)
    first, created = jobs.create_job(db, user_id=1, chat_id=1, prompt="x", source_update_id=update_id)
    second, created_again = jobs.create_job(db, user_id=1, chat_id=1, prompt="x", source_update_id=update_id)
    assert created and not created_again
    assert first["id"] == second["id"]
