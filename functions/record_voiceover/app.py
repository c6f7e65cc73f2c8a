"""RecordVoiceover: speak each segment and lay the parts on one track."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.stages.record_voiceover import record_voiceover


@stage_handler("record_voiceover")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return record_voiceover(rt, event["job_id"])
