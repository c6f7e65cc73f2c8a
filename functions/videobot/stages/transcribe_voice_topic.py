"""TranscribeVoiceTopic: the first state of a voice topic's execution. The webhook only
checked the voice note (a key for OpenAI, its size as Telegram states it) and stored its file
id; here the file is fetched through the ChatFiles port (≤ 20 MB), transcribed, and the words
become the job's topic. The user hears once what was understood.

Idempotent on a retry: a topic already stored is not transcribed (or paid for) again, and
"what was heard" is sent once (notify_once). A file that cannot be fetched, a transcription
refused for good or one with no words ends the job through RecordFailure with the voice's own
message (VoiceNotDownloadable, VoiceNotUnderstood, VoiceEmpty)."""

from __future__ import annotations

from videobot import usage
from videobot.data import jobs
from videobot.errors import VendorFailed, VoiceEmpty, VoiceNotUnderstood
from videobot.notify import VoiceHeard, notify_once
from videobot.observability import logger
from videobot.runtime import Runtime

HEARD_SHOWN_CHARS = 3500


def transcribe_voice_topic(rt: Runtime, job_id: str) -> dict:
    job = jobs.get_job(rt.db, job_id)
    if not job.prompt.strip():
        if not job.voice_file_id:
            raise VoiceNotUnderstood(f"job {job_id} has neither a topic nor a voice note")
        voice = rt.chat_files.download(job.voice_file_id, max_bytes=rt.settings.telegram.max_voice_bytes)
        call = usage.transcription_call(rt.settings, job_id, "transcribe_topic", len(voice.data))
        try:
            with usage.paid_call(rt.db, rt.settings, call) as bill:
                transcript = rt.transcriber.transcribe(voice.data, filename=voice.filename, language=job.language)
                bill.transcript(transcript)
        except VendorFailed as exc:  # refused for good (a corrupt file, a 400); outages are retried
            logger.warning("transcription failed", extra={"job_id": job_id, "error": str(exc)})
            raise VoiceNotUnderstood(str(exc)) from None
        text = transcript.text.strip()
        if not text:
            raise VoiceEmpty("no words were made out in the voice note")
        job = jobs.update_job(rt.db, job_id, prompt=text[: rt.settings.telegram.max_topic_chars])
    notify_once(rt.db, rt.notifier, job, VoiceHeard(job.prompt[:HEARD_SHOWN_CHARS]))
    return {"topic_chars": len(job.prompt)}
