"""What each job spent at the vendors (ai_video_bot.vendor_usage): one row per paid LLM call,
narration part or vendor task. Rows outlive a cancelled job's cleared content: the money is
spent. Prices and totals are videobot.usage's."""

from __future__ import annotations

from videobot.data.db import Database

TABLE = "ai_video_bot.vendor_usage"


def insert_llm(
    db: Database,
    job_id: str,
    stage: str,
    *,
    vendor: str,
    model: str,
    calls: int,
    input_tokens: int,
    output_tokens: int,
) -> None:
    db.execute(
        f"INSERT INTO {TABLE} (job_id, stage, vendor, model, calls, input_tokens, output_tokens)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (job_id, stage, vendor, model, calls, input_tokens, output_tokens),
    )


def insert_speech(db: Database, job_id: str, segment_index: int, *, vendor: str, model: str, characters: int) -> None:
    db.execute(
        f"INSERT INTO {TABLE} (job_id, stage, segment_index, vendor, model, characters)"
        " VALUES (%s, 'record_voiceover', %s, %s, %s, %s)",
        (job_id, segment_index, vendor, model, characters),
    )


def insert_task(
    db: Database,
    job_id: str,
    stage: str,
    segment_index: int,
    task_id: str,
    *,
    vendor: str,
    model: str,
    seconds: float,
    credits: float,
) -> bool:
    """A submitted vendor task, once (its id is unique), with its estimated credits. True when
    this call recorded it."""
    return (
        db.execute(
            f"INSERT INTO {TABLE} (job_id, stage, segment_index, vendor, model, seconds, credits, task_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (task_id) DO NOTHING",
            (job_id, stage, segment_index, vendor, model, seconds, credits, task_id),
        )
        == 1
    )


def settle_task(db: Database, task_id: str, credits: float | None) -> dict | None:
    """Replace the estimate with the cost the vendor reported when the task ended (if it did),
    and note when the end was seen. Returns {vendor, estimated, final} credits when this call
    changed the row, else None."""
    return db.query_one(
        f"WITH before AS (SELECT task_id, credits FROM {TABLE} WHERE task_id = %s AND NOT credits_final FOR UPDATE)"
        f" UPDATE {TABLE} AS t SET credits = COALESCE(%s, t.credits), credits_final = t.credits_final OR %s,"
        " settled_at = COALESCE(t.settled_at, now() AT TIME ZONE 'utc')"
        " FROM before WHERE t.task_id = before.task_id"
        " RETURNING t.vendor, before.credits AS estimated, t.credits AS final",
        (task_id, credits, credits is not None),
    )


def task_running(db: Database, task_id: str):
    """A poll saw the task RUNNING: its queue time ends here (the first time only). Returns
    when it was first seen running (None for a task not recorded)."""
    db.execute(
        f"UPDATE {TABLE} SET running_at = now() AT TIME ZONE 'utc'"
        " WHERE task_id = %s AND running_at IS NULL AND settled_at IS NULL",
        (task_id,),
    )
    row = db.query_one(f"SELECT running_at FROM {TABLE} WHERE task_id = %s", (task_id,))
    return row["running_at"] if row else None


def recent_task_seconds(db: Database, model: str, limit: int = 20) -> list[float]:
    """How long the model's last tasks ran (from leaving the queue to their end), newest first."""
    rows = db.query(
        f"SELECT EXTRACT(EPOCH FROM settled_at - COALESCE(running_at, recorded_at)) AS seconds"
        f" FROM {TABLE} WHERE model = %s AND settled_at IS NOT NULL AND task_id IS NOT NULL"
        " ORDER BY settled_at DESC LIMIT %s",
        (model, limit),
    )
    return [float(r["seconds"]) for r in rows]


def model_of_task(db: Database, task_id: str) -> str | None:
    row = db.query_one(f"SELECT model FROM {TABLE} WHERE task_id = %s", (task_id,))
    return row["model"] if row else None


def rows(db: Database, job_id: str) -> list[dict]:
    return db.query(f"SELECT * FROM {TABLE} WHERE job_id = %s ORDER BY id", (job_id,))
