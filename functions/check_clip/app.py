"""CheckClip: poll one segment's clip task; store the clip when it is ready (seed stage 9)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("check_clip")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.check_clip(event["job_id"], int(event["segment_index"]), int(event.get("attempt", 0)),
                         pipeline.PollWaits.from_event(event))
