"""DeliverVideo: send the finished video to the user (once), and complete the job."""

from __future__ import annotations

from videobot.data import jobs
from videobot.data.db import NOW
from videobot.notify import VideoReady, notify_once
from videobot.observability import count
from videobot.runtime import Runtime


def deliver_video(rt: Runtime, job_id: str) -> dict:
    job = jobs.get_job(job_id)
    notify_once(rt.notifier, job, VideoReady(job.final_video_path))
    if jobs.finish_job(job_id, "completed", completed_at=NOW):
        count("JobsEnded", outcome="delivered")
    return {"delivered": True}
