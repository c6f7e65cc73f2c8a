"""AssembleVideo: the prepared clips and the narration become one MP4 under the size cap."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.stages.assemble_video import assemble_video


@stage_handler("assemble_video")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return assemble_video(rt, event["job_id"])
