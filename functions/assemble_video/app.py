"""AssembleVideo: clips plus narration become one MP4 under 50 MB (seed stage 12)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("assemble_video")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.assemble_video(event["job_id"])
