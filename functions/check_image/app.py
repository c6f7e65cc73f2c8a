"""CheckImage (in GenerateImages): poll one segment's image task; store the image when it is ready."""

from videobot.entry import LambdaContext, deadline, stage_handler
from videobot.pipeline import SegmentTaskEvent
from videobot.runtime import Runtime
from videobot.stages.generate_images import check_image


@stage_handler("check_image")
def lambda_handler(rt: Runtime, event: dict, context: LambdaContext | None = None) -> dict:
    task = SegmentTaskEvent.model_validate(event)  # the execution's settings come with the event
    return check_image(rt, task.job_id, task.segment_index, task.attempt, task.settings, deadline(context))
