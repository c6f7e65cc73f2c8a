"""The segment rows (ai_video_bot.video_segments_enhanced): one per 5-second part of a job,
with its prompts, its vendor tasks and its media."""

from __future__ import annotations

from typing import Any

from videobot.data.db import NOW, Database, assignments
from videobot.data.rows import Segment
from videobot.errors import JobCancelled
from videobot.pipeline import CLIP, MediaKind

SEGMENTS = "ai_video_bot.video_segments_enhanced"

_COLUMNS = {
    "text",
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
    "narration_path",
    "narration_duration",
    "image_submissions",
    "video_submissions",
    "error_message",
    "image_submitted_at",
    "video_submitted_at",
    "animation_prompt_draft",
    "vendor_status",
}


def create_segments(db: Database, job_id: str, texts: list[str], seconds: float) -> None:
    with db.connect() as conn, conn.cursor() as cur:
        for index, text in enumerate(texts):
            cur.execute(
                f"INSERT INTO {SEGMENTS} (job_id, segment_index, text, start_time, end_time)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (job_id, segment_index) DO NOTHING",
                (job_id, index, text, index * seconds, (index + 1) * seconds),
            )


def get_segments(db: Database, job_id: str) -> list[Segment]:
    return [
        Segment.from_row(r)
        for r in db.query(f"SELECT * FROM {SEGMENTS} WHERE job_id = %s ORDER BY segment_index", (job_id,))
    ]


def get_segment(db: Database, job_id: str, index: int) -> Segment:
    row = db.query_one(f"SELECT * FROM {SEGMENTS} WHERE job_id = %s AND segment_index = %s", (job_id, index))
    if row is None:
        raise JobCancelled(f"segment {index} of job {job_id} is gone")
    return Segment.from_row(row)


def update_segment(db: Database, job_id: str, index: int, **fields: Any) -> Segment:
    sets, params = assignments(fields, _COLUMNS)
    row = db.query_one(
        f"UPDATE {SEGMENTS} SET {sets} WHERE job_id = %s AND segment_index = %s RETURNING *", (*params, job_id, index)
    )
    if row is None:
        raise JobCancelled(f"segment {index} of job {job_id} is gone")
    return Segment.from_row(row)


def store_narration(db: Database, job_id: str, index: int, *, text: str, path: str, seconds: float) -> Segment:
    """The segment's narration as spoken: its text (what the subtitle shows), the audio and the
    seconds of speech in it, in one update."""
    return update_segment(db, job_id, index, text=text, narration_path=path, narration_duration=seconds)


def segment_counts(db: Database, job_id: str) -> dict[str, int]:
    (counts,) = db.query(  # an aggregate: always one row
        f"SELECT count(*) AS segments, count(image_prompt) AS image_prompts, count(image_path) AS images,"
        f" count(animation_prompt) AS animation_prompts, count(video_path) AS videos,"
        f" count(narration_path) AS narrations, count(*) FILTER (WHERE vendor_status = 'THROTTLED') AS queued"
        f" FROM {SEGMENTS} WHERE job_id = %s",
        (job_id,),
    )
    return counts


# ---- one kind of media (videobot.pipeline.MediaKind): the columns <prefix>_path, ...


def _media(kind: MediaKind, column: str) -> str:
    return f"{kind.column}_{column}"


def count_submission(db: Database, job_id: str, index: int, kind: MediaKind, submissions: int) -> Segment:
    """How often the segment's image or clip was submitted (counted before it is paid for)."""
    return update_segment(db, job_id, index, **{_media(kind, "submissions"): submissions})


def record_task(db: Database, job_id: str, index: int, kind: MediaKind, task_id: str) -> Segment:
    """The vendor accepted the task: its id, and when, right after."""
    return update_segment(
        db, job_id, index, **{_media(kind, "runway_task_id"): task_id, _media(kind, "submitted_at"): NOW}
    )


def forget_task(db: Database, job_id: str, index: int, kind: MediaKind) -> Segment:
    """The vendor lost the task: the next submit starts another."""
    return update_segment(db, job_id, index, **{_media(kind, "runway_task_id"): None, "vendor_status": None})


def store_media(db: Database, job_id: str, index: int, kind: MediaKind, path: str, **fields: Any) -> Segment:
    """The image or clip is stored at `path` (`fields`: e.g. the clip's video_duration)."""
    return update_segment(
        db,
        job_id,
        index,
        **{_media(kind, "path"): path, _media(kind, "generated_at"): NOW, "status": kind.ready},
        **fields,
    )


def redo_media(db: Database, job_id: str, index: int, kind: MediaKind, prompt: str | None = None) -> Segment:
    """Forget the segment's image or clip and its task, so the Map makes it again (with `prompt`,
    when given). A new image also forgets the animation prompt drafted for the old one: the
    clip is animated from a prompt written for the picture that exists (WriteAnimationPrompts)."""
    fields: dict[str, Any] = {
        _media(kind, "path"): None,
        _media(kind, "runway_task_id"): None,
        _media(kind, "generated_at"): None,
        _media(kind, "submissions"): 0,
        _media(kind, "submitted_at"): None,
        "status": kind.prompt_ready,
        "error_message": None,
    }
    if kind is CLIP:
        fields["video_duration"] = None
    else:
        fields["animation_prompt_draft"] = None
    if prompt is not None:
        fields[kind.prompt_column] = prompt
    return update_segment(db, job_id, index, **fields)
