"""AssembleVideo: the prepared clips and the narration become one MP4 under the size cap."""

from videobot import runtime
from videobot.observability import stage_handler
from videobot.stages.assemble_video import assemble_video


@stage_handler("assemble_video")
def lambda_handler(event: dict, context=None) -> dict:
    return assemble_video(runtime.current(), event["job_id"])
