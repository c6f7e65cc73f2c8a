"""SubmitClip (in AnimateClips): start one segment's image-to-video task."""

from videobot.entry import LambdaContext, deadline, stage_handler
from videobot.pipeline import SegmentTaskEvent
from videobot.runtime import Runtime
from videobot.stages.animate_clips import submit_clip


@stage_handler("submit_clip")
def lambda_handler(rt: Runtime, event: dict, context: LambdaContext | None = None) -> dict:
    task = SegmentTaskEvent.model_validate(event)  # the execution's settings come with the event
    return submit_clip(rt, task.job_id, task.segment_index, task.settings, deadline(context))
