"""RecordVoiceover: speak each segment and lay the parts on one track."""

from videobot import runtime
from videobot.observability import stage_handler
from videobot.stages.record_voiceover import record_voiceover


@stage_handler("record_voiceover")
def lambda_handler(event: dict, context=None) -> dict:
    return record_voiceover(runtime.current(), event["job_id"])
