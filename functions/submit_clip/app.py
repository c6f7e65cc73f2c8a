"""SubmitClip (in AnimateClips): start one segment's image-to-video task."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.stages.animate_clips import submit_clip
from videobot.stages.vendor_tasks import PollWaits


@stage_handler("submit_clip")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return submit_clip(rt, event["job_id"], int(event["segment_index"]), PollWaits.from_event(event))
