"""SubmitClip: start one segment's image-to-video task (seed stage 9)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("submit_clip")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.submit_clip(event["job_id"], int(event["segment_index"]), pipeline.PollWaits.from_event(event))
