"""SplitIntoSegments: one row per narration part, each with its place on the timeline."""

from __future__ import annotations

from videobot.data import jobs, segments
from videobot.runtime import Runtime


def split_into_segments(rt: Runtime, job_id: str) -> dict:
    texts = jobs.get_job(rt.db, job_id).segment_texts
    segments.create_segments(rt.db, job_id, texts, rt.settings.pipeline.segment_seconds)
    return {"segment_indexes": list(range(len(texts)))}
