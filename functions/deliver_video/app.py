"""DeliverVideo: send the finished video and complete the job (seed stage 13)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("deliver_video")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.deliver_video(event["job_id"])
