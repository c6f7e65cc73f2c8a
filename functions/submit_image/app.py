"""SubmitImage (in GenerateImages): start one segment's image task at the vendor."""

from videobot.entry import LambdaContext, deadline, stage_handler
from videobot.pipeline import SegmentTaskEvent
from videobot.runtime import Runtime
from videobot.stages.generate_images import submit_image


@stage_handler("submit_image")
def lambda_handler(rt: Runtime, event: dict, context: LambdaContext | None = None) -> dict:
    task = SegmentTaskEvent.model_validate(event)  # the execution's settings come with the event
    return submit_image(rt, task.job_id, task.segment_index, task.settings, deadline(context))
