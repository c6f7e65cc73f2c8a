"""SubmitImage (in GenerateImages): start one segment's image task at the vendor."""

from videobot import runtime
from videobot.observability import stage_handler
from videobot.stages.generate_images import submit_image
from videobot.stages.vendor_tasks import PollWaits


@stage_handler("submit_image")
def lambda_handler(event: dict, context=None) -> dict:
    return submit_image(runtime.current(), event["job_id"], int(event["segment_index"]), PollWaits.from_event(event))
