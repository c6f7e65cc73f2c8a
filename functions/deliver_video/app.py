"""DeliverVideo: send the finished video and complete the job."""

from videobot import runtime
from videobot.observability import stage_handler
from videobot.stages.deliver_video import deliver_video


@stage_handler("deliver_video")
def lambda_handler(event: dict, context=None) -> dict:
    return deliver_video(runtime.current(), event["job_id"])
