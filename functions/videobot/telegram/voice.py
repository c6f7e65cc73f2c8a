"""A voice note (or audio file) is the topic, or feedback at an open gate: download it
(≤ 20 MB, the Bot API's limit for bots), transcribe it, echo the text, then treat it like a
typed message."""

from __future__ import annotations

import asyncio
from pathlib import Path

from telegram import Bot, Message
from telegram.error import BadRequest

from videobot import preferences, runtime, usage
from videobot.data import jobs
from videobot.errors import VendorFailed
from videobot.observability import logger
from videobot.telegram import feedback, texts
from videobot.telegram.bot import call
from videobot.telegram.replies import reply
from videobot.telegram.topics import start_topic

TRANSCRIBE_SUFFIXES = (".flac", ".m4a", ".mp3", ".mp4", ".mpeg", ".mpga", ".oga", ".ogg", ".wav", ".webm")


async def voice_topic(bot: Bot, message: Message, lang: str, update_id: int) -> None:
    rt = runtime.current()
    settings = rt.settings
    chat_id = message.chat_id
    voice = message.voice or message.audio
    if not settings.openai_api_key:
        await reply(bot, chat_id, lang, "voice_needs_key")
        return
    limit_mb = f"{settings.max_voice_bytes / 1024 / 1024:g}"
    if voice.file_size and voice.file_size > settings.max_voice_bytes:
        await reply(bot, chat_id, lang, "voice_too_big", limit_mb=limit_mb)
        return
    try:
        file = await call(lambda: bot.get_file(voice.file_id), "getFile")
        if file.file_size and file.file_size > settings.max_voice_bytes:
            raise BadRequest("file is too big")
        audio = bytes(await call(lambda: file.download_as_bytearray(), "downloadFile"))
    except BadRequest as exc:  # "file is too big" (over 20 MB), or a file id Telegram no longer has
        logger.info("voice note not downloadable", extra={"error": str(exc)})
        await reply(bot, chat_id, lang, "voice_too_big", limit_mb=limit_mb)
        return
    name = Path(str(file.file_path or "")).name
    filename = name if name.lower().endswith(TRANSCRIBE_SUFFIXES) else "voice.oga"
    hint = preferences.get(message.from_user.id if message.from_user else None).job_language
    try:
        transcript = await asyncio.to_thread(
            lambda: rt.transcriber.transcribe(audio, filename=filename, language=hint))
    except VendorFailed as exc:
        logger.warning("transcription failed", extra={"error": str(exc)})
        await reply(bot, chat_id, lang, "voice_failed")
        return
    if not transcript.text:
        await reply(bot, chat_id, lang, "voice_empty")
        return
    await reply(bot, chat_id, lang, "voice_heard", text=texts.clip(transcript.text, 3500))
    if await feedback.gate_feedback(bot, message, lang, transcript.text):  # spoken feedback at an open gate
        return
    await start_topic(bot, message, lang, transcript.text, update_id)
    job = jobs.job_for_update(update_id)
    if job:  # the transcription is part of what this job cost
        usage.record_llm(job.id, "transcribe_topic",
                         {"vendor": "openai", "model": transcript.model, "calls": 1,
                          "input_tokens": transcript.input_tokens, "output_tokens": transcript.output_tokens})
