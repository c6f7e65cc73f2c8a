"""DeliverVideo: send the finished video to the user (once), and complete the job. Then, once
and best effort, which segments' narration was rewritten shorter to fit (RecordVoiceover): the
user approved a script that the video no longer says word for word. The notice never holds the
video back: it is sent only after Telegram confirmed the video, and a notice that cannot be
sent is logged, not raised (a DeliverVideo retried for it would send nothing new)."""

from __future__ import annotations

from videobot.data import jobs, segments
from videobot.data.db import NOW
from videobot.data.rows import Job
from videobot.notify import NarrationShortened, VideoReady, notify_once
from videobot.observability import count, logger
from videobot.pipeline import JobStatus
from videobot.runtime import Runtime
from videobot.stages.animate_clips import subtitled


def deliver_video(rt: Runtime, job_id: str) -> dict:
    job = jobs.get_job(rt.db, job_id)
    notify_once(rt.db, rt.notifier, job, VideoReady(job.final_video_path))
    if jobs.finish_job(rt.db, job_id, JobStatus.COMPLETED, completed_at=NOW):
        count("JobsEnded", outcome="delivered")
    shortened = shortened_segments(rt, job)
    if shortened:
        notice = NarrationShortened(tuple(shortened), rt.settings.pipeline.segment_seconds, subtitled(rt, job))
        try:
            notify_once(rt.db, rt.notifier, job, notice)
        except Exception as exc:  # noqa: BLE001 - the video is delivered; the notice is not worth failing it
            logger.warning("narration notice not sent", extra={"job_id": job_id, "error": str(exc)})
    return {"delivered": True, "narration_shortened": shortened}


def shortened_segments(rt: Runtime, job: Job) -> list[int]:
    """The segments (0-based) whose narration is no longer the approved script's part: each
    segment's text is what its narration says (RecordVoiceover stores the shorter one)."""
    approved = job.segment_texts
    return [
        seg.segment_index
        for seg in segments.get_segments(rt.db, job.id)
        if seg.segment_index < len(approved) and seg.text != approved[seg.segment_index]
    ]
