"""DeliverVideo: send the finished video and complete the job."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.stages.deliver_video import deliver_video


@stage_handler("deliver_video")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return deliver_video(rt, event["job_id"])
