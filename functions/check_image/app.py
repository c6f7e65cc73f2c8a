"""CheckImage: poll one segment's image task; store the image when it is ready (seed stage 6)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("check_image")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.check_image(event["job_id"], int(event["segment_index"]), int(event.get("attempt", 0)),
                         pipeline.PollWaits.from_event(event))
