"""CheckClip (in AnimateClips): poll one segment's clip task; store and prepare the clip when it is ready."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.stages.animate_clips import check_clip
from videobot.stages.vendor_tasks import PollWaits


@stage_handler("check_clip")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return check_clip(
        rt,
        event["job_id"],
        int(event["segment_index"]),
        int(event.get("attempt", 0)),
        PollWaits.from_event(event),
    )
