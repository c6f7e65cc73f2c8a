"""RecordVoiceover: speak each segment and lay the parts on one 50 s track (seed stage 11)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("record_voiceover")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.record_voiceover(event["job_id"])
