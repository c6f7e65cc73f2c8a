"""A voice note (or audio file) is the topic, or feedback at an open gate. The webhook does
only the quick checks (a transcription provider, the size Telegram states); the slow work (a download of
up to 20 MB and OpenAI's transcription, 25 s × 3 tries) never runs inside its 29 s:

- a topic starts a job with the voice note's file id; its execution transcribes it first
  (TranscribeVoiceTopic), after the same limits as a typed topic;
- feedback at an open gate is handed to HandleSlowUpdateFunction (`voice_at_gate`), which
  transcribes it, echoes the words and takes them like a typed message."""

from __future__ import annotations

import asyncio

from telegram import Audio, Bot, Message, Voice

from videobot import usage
from videobot.data import gates, jobs, notifications
from videobot.errors import BudgetExceeded, VendorFailed, VendorUnavailable, VoiceNotDownloadable
from videobot.observability import logger
from videobot.runtime import Runtime
from videobot.telegram import feedback, files, handover, texts
from videobot.telegram.replies import reply, sender_id
from videobot.telegram.topics import start_topic


def _limit_mb(rt: Runtime) -> str:
    return f"{rt.settings.telegram.max_voice_bytes / 1_000_000:g}"


def _voice_of(message: Message) -> Voice | Audio:
    """The voice note (or audio file) a message the handlers passed here carries."""
    voice = message.voice or message.audio
    if voice is None:
        raise ValueError("a message without a voice note")
    return voice


async def voice_topic(rt: Runtime, bot: Bot, message: Message, lang: str, update_id: int) -> None:
    """The webhook's part: quick checks, then a job (or the gate's worker)."""
    settings = rt.settings
    chat_id = message.chat_id
    voice = _voice_of(message)
    if settings.providers.pipeline_transcribe == "none":  # no OpenAI key on a laptop
        await reply(rt, bot, chat_id, lang, "voice_needs_key")
        return
    if voice.file_size and voice.file_size > settings.telegram.max_voice_bytes:
        await reply(rt, bot, chat_id, lang, "voice_too_big", limit_mb=_limit_mb(rt))
        return
    job = await asyncio.to_thread(jobs.active_job_for_chat, rt.db, chat_id)
    gate = await asyncio.to_thread(gates.open_gate_for_job, rt.db, job.id) if job else None
    if gate:  # spoken feedback at an open gate
        await asyncio.to_thread(
            handover.hand_over, rt, handover.VOICE_FEEDBACK, message=message.to_dict(), lang=lang, update_id=update_id
        )
        return
    await start_topic(rt, bot, message, lang, "", update_id, voice_file_id=voice.file_id)


async def voice_at_gate(rt: Runtime, bot: Bot, message: Message, lang: str, update_id: int) -> dict:
    """HandleSlowUpdateFunction's part for a voice note at an open gate: once per update,
    also when Lambda runs the event again. The update is done only once its words were taken
    (as feedback, or as a topic); a run that failed on the way leaves it to Lambda's retry,
    which says "🎙 Распознано" only if it was not said yet, and applies the feedback once
    (control.revise keys it by this update)."""
    chat_id = message.chat_id
    voice = _voice_of(message)
    job = jobs.active_job_for_chat(rt.db, chat_id)
    key = f"voice_feedback:{update_id}"
    if job is not None:
        state = notifications.claim_state(rt.db, job.id, key)
        if state == notifications.SENT:
            logger.info("voice feedback already handled", extra={"job_id": job.id, "update_id": update_id})
            return {"handled": False, "duplicate": True}
        if state == notifications.IN_FLIGHT:  # another run holds it: Lambda's retry looks again
            raise VendorUnavailable(f"voice feedback {update_id} is being handled")
    try:
        outcome = await _hear_and_take(rt, bot, message, lang, update_id, voice, job)
    except Exception:
        if job is not None:  # not taken yet: Lambda's retry does it again
            notifications.release(rt.db, job.id, key)
        raise
    if job is not None:
        notifications.confirm(rt.db, job.id, key)
    return {"handled": True, "outcome": outcome}


async def _hear_and_take(
    rt: Runtime, bot: Bot, message: Message, lang: str, update_id: int, voice: Voice | Audio, job
) -> str:
    settings, chat_id = rt.settings, message.chat_id
    try:
        chat_file = await files.download(bot, voice.file_id, settings.telegram.max_voice_bytes, settings)
    except VoiceNotDownloadable:
        await reply(rt, bot, chat_id, lang, "voice_too_big", limit_mb=_limit_mb(rt))
        return "voice_too_big"
    try:
        transcript = await asyncio.to_thread(_transcribe, rt, job, sender_id(message), chat_file)
    except (VendorFailed, VendorUnavailable) as exc:  # said at once: the gate is waiting for the user
        logger.warning("transcription failed", extra={"error": str(exc)})
        await reply(rt, bot, chat_id, lang, "voice_failed")
        return "voice_failed"
    except BudgetExceeded:  # the transcription itself does not fit the daily budget: not made
        await reply(rt, bot, chat_id, lang, "voice_over_budget")
        return "voice_over_budget"
    if not transcript.text:
        await reply(rt, bot, chat_id, lang, "voice_empty")
        return "voice_empty"
    await _say_heard(rt, bot, chat_id, lang, job, update_id, transcript.text)
    if await feedback.gate_feedback(rt, bot, message, lang, transcript.text, update_id):
        return "feedback"
    # the gate closed meanwhile: the words are a topic, as a typed one would be
    await start_topic(rt, bot, message, lang, transcript.text, update_id)
    return "topic"


async def _say_heard(rt: Runtime, bot: Bot, chat_id: int, lang: str, job, update_id: int, text: str) -> None:
    """ "🎙 Распознано: «…»", once per update (a retried run does not say it again)."""
    key = f"voice_heard:{update_id}"
    if job is not None and notifications.claim_state(rt.db, job.id, key) != notifications.CLAIMED:
        return
    try:
        await reply(rt, bot, chat_id, lang, "voice_heard", text=texts.clip(text, 3500))
    except Exception:
        if job is not None:
            notifications.release(rt.db, job.id, key)
        raise
    if job is not None:
        notifications.confirm(rt.db, job.id, key)


def _transcribe(rt: Runtime, job, user_id: int, chat_file):
    """The voice note transcribed through the ledger: the open job's, or (no job open: the words
    become a topic) the user's own line."""
    call = usage.transcription_call(
        rt.settings, job.id if job else None, "transcribe_feedback", len(chat_file.data), user_id=user_id
    )
    with usage.paid_call(rt.db, rt.settings, call) as bill:
        transcript = rt.transcriber.transcribe(
            chat_file.data, filename=chat_file.filename, language=job.language if job else None
        )
        bill.transcript(transcript)
    return transcript
