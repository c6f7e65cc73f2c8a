"""TranscribeVoiceTopic: a voice note becomes the job's topic."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.stages.transcribe_voice_topic import transcribe_voice_topic


@stage_handler("transcribe_voice_topic")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return transcribe_voice_topic(rt, event["job_id"])
