"""CheckImage (in GenerateImages): poll one segment's image task; store the image when it is ready."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.stages.generate_images import check_image
from videobot.stages.vendor_tasks import PollWaits


@stage_handler("check_image")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return check_image(
        rt,
        event["job_id"],
        int(event["segment_index"]),
        int(event.get("attempt", 0)),
        PollWaits.from_event(event),
    )
