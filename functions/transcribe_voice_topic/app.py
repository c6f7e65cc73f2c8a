"""TranscribeVoiceTopic: a voice note becomes the job's topic."""

from videobot import runtime
from videobot.observability import stage_handler
from videobot.stages.transcribe_voice_topic import transcribe_voice_topic


@stage_handler("transcribe_voice_topic")
def lambda_handler(event: dict, context=None) -> dict:
    return transcribe_voice_topic(runtime.current(), event["job_id"])
