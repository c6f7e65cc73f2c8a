"""SubmitImage: start one segment's image task at the vendor (seed stage 6)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("submit_image")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.submit_image(event["job_id"], int(event["segment_index"]), pipeline.PollWaits.from_event(event))
