"""CheckClip (in AnimateClips): poll one segment's clip task; store and prepare the clip when it is ready."""

from videobot.entry import LambdaContext, deadline, stage_handler
from videobot.pipeline import SegmentTaskEvent
from videobot.runtime import Runtime
from videobot.stages.animate_clips import check_clip


@stage_handler("check_clip")
def lambda_handler(rt: Runtime, event: dict, context: LambdaContext | None = None) -> dict:
    task = SegmentTaskEvent.model_validate(event)  # the execution's settings come with the event
    return check_clip(rt, task.job_id, task.segment_index, task.attempt, task.settings, deadline(context))
