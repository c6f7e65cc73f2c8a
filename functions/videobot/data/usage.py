"""What each job spent at the vendors (ai_video_bot.vendor_usage): one row per paid LLM call,
narration part or vendor task. Rows outlive a cancelled job's cleared content: the money is
spent. Prices and totals are videobot.usage's."""

from __future__ import annotations

from videobot.data import db

TABLE = "ai_video_bot.vendor_usage"


def insert_llm(job_id: str, stage: str, *, vendor: str, model: str, calls: int, input_tokens: int,
               output_tokens: int) -> None:
    db.execute(f"INSERT INTO {TABLE} (job_id, stage, vendor, model, calls, input_tokens, output_tokens)"
               " VALUES (%s, %s, %s, %s, %s, %s, %s)",
               (job_id, stage, vendor, model, calls, input_tokens, output_tokens))


def insert_speech(job_id: str, segment_index: int, *, vendor: str, model: str, characters: int) -> None:
    db.execute(f"INSERT INTO {TABLE} (job_id, stage, segment_index, vendor, model, characters)"
               " VALUES (%s, 'record_voiceover', %s, %s, %s, %s)", (job_id, segment_index, vendor, model, characters))


def insert_task(job_id: str, stage: str, segment_index: int, task_id: str, *, vendor: str, model: str,
                seconds: float, credits: float) -> None:
    """A submitted vendor task, once (its id is unique), with its estimated credits."""
    db.execute(f"INSERT INTO {TABLE} (job_id, stage, segment_index, vendor, model, seconds, credits, task_id)"
               " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (task_id) DO NOTHING",
               (job_id, stage, segment_index, vendor, model, seconds, credits, task_id))


def settle_task(task_id: str, credits: float) -> None:
    """Replace the estimate with the cost the vendor reported when the task ended."""
    db.execute(f"UPDATE {TABLE} SET credits = %s, credits_final = true WHERE task_id = %s AND NOT credits_final",
               (credits, task_id))


def rows(job_id: str) -> list[dict]:
    return db.query(f"SELECT * FROM {TABLE} WHERE job_id = %s ORDER BY id", (job_id,))
