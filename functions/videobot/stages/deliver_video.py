"""DeliverVideo: send the finished video to the user (once), and complete the job."""

from __future__ import annotations

from videobot.data import jobs
from videobot.data.db import NOW
from videobot.notify import VideoReady, notify_once
from videobot.observability import count
from videobot.pipeline import JobStatus
from videobot.runtime import Runtime


def deliver_video(rt: Runtime, job_id: str) -> dict:
    job = jobs.get_job(rt.db, job_id)
    notify_once(rt.db, rt.notifier, job, VideoReady(job.final_video_path))
    if jobs.finish_job(rt.db, job_id, JobStatus.COMPLETED, completed_at=NOW):
        count("JobsEnded", outcome="delivered")
    return {"delivered": True}
