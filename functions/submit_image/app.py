"""SubmitImage (in GenerateImages): start one segment's image task at the vendor."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.stages.generate_images import submit_image
from videobot.stages.vendor_tasks import PollWaits


@stage_handler("submit_image")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return submit_image(rt, event["job_id"], int(event["segment_index"]), PollWaits.from_event(event))
