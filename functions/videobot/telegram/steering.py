"""Steering the bot beyond approve/reject (issue 9): voice-note topics, /settings, /history,
and the cost of a job. handlers.py routes these updates here; the topic itself still starts
through handlers._topic, exactly like a typed one."""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from videobot import db, jobs, preferences, storage, usage
from videobot.config import get_settings
from videobot.errors import VendorFailed
from videobot.observability import logger
from videobot.telegram import texts
from videobot.telegram.bot import call

# callback_data (1-64 bytes), "|"-separated so the approval buttons' parser never takes them:
# "st|<field>|<value>" changes a setting, "hv|<job_id>" sends a finished video again.
SETTING_CODES = {"ar": "aspect_ratio", "v": "voice", "l": "narration_language", "s": "subtitles"}
FIELD_CODES = {v: k for k, v in SETTING_CODES.items()}
TRANSCRIBE_SUFFIXES = (".flac", ".m4a", ".mp3", ".mp4", ".mpeg", ".mpga", ".oga", ".ogg", ".wav", ".webm")


def owns(data: str | None) -> bool:
    return bool(data) and data.split("|", 1)[0] in ("st", "hv")


def _data(*parts: str) -> str:
    data = "|".join(parts)
    if not 1 <= len(data.encode()) <= 64:
        raise ValueError(f"callback data {data!r} is not 1-64 bytes")
    return data


# ---- cost -------------------------------------------------------------------------------

def job_cost_usd(job_id: str) -> float:
    return usage.summary(job_id)["estimated_usd"]


def cost_line(lang: str, job_id: str) -> str:
    return texts.text(lang, "cost_line", usd=f"{job_cost_usd(job_id):.2f}")


# ---- voice topics -----------------------------------------------------------------------

async def voice_topic(bot: Bot, message: Message, lang: str, update_id: int) -> None:
    """A voice note (or audio file) is the topic: download it (≤ 20 MB, the Bot API's limit for
    bots), transcribe it with OpenAI, echo the text, and start the job from it."""
    from videobot.telegram import handlers

    settings = get_settings()
    chat_id = message.chat_id
    voice = message.voice or message.audio
    if not settings.openai_api_key:
        await handlers._reply(bot, chat_id, lang, "voice_needs_key")
        return
    limit_mb = f"{settings.max_voice_bytes / 1024 / 1024:g}"
    if voice.file_size and voice.file_size > settings.max_voice_bytes:
        await handlers._reply(bot, chat_id, lang, "voice_too_big", limit_mb=limit_mb)
        return
    try:
        file = await call(lambda: bot.get_file(voice.file_id), "getFile")
        if file.file_size and file.file_size > settings.max_voice_bytes:
            raise BadRequest("file is too big")
        audio = bytes(await call(lambda: file.download_as_bytearray(), "downloadFile"))
    except BadRequest as exc:  # "file is too big" (over 20 MB), or a file id Telegram no longer has
        logger.info("voice note not downloadable", extra={"error": str(exc)})
        await handlers._reply(bot, chat_id, lang, "voice_too_big", limit_mb=limit_mb)
        return
    name = Path(str(file.file_path or "")).name
    filename = name if name.lower().endswith(TRANSCRIBE_SUFFIXES) else "voice.oga"
    from videobot.providers.openai_transcribe import OpenAITranscriber

    hint = preferences.get(message.from_user.id if message.from_user else None).job_language
    try:
        transcript = await asyncio.to_thread(
            lambda: OpenAITranscriber().transcribe(audio, filename=filename, language=hint))
    except VendorFailed as exc:
        logger.warning("transcription failed", extra={"error": str(exc)})
        await handlers._reply(bot, chat_id, lang, "voice_failed")
        return
    if not transcript.text:
        await handlers._reply(bot, chat_id, lang, "voice_empty")
        return
    await handlers._reply(bot, chat_id, lang, "voice_heard", text=texts.clip(transcript.text, 3500))
    if await gate_feedback(bot, message, lang, transcript.text):  # spoken feedback at an open gate
        return
    await handlers._topic(bot, message, lang, transcript.text, update_id)
    job = db.query_one(f"SELECT id FROM {jobs.JOBS} WHERE source_update_id = %s", (update_id,))
    if job:  # the transcription is part of what this job cost
        usage.record_llm(job["id"], "transcribe_topic",
                         {"vendor": "openai", "model": transcript.model, "calls": 1,
                          "input_tokens": transcript.input_tokens, "output_tokens": transcript.output_tokens})


# ---- /settings --------------------------------------------------------------------------

def _value_name(lang: str, field: str, value) -> str:
    if field == "subtitles":
        return texts.text(lang, "settings_on" if value else "settings_off")
    if field == "narration_language":
        return texts.text(lang, f"settings_lang_{value}")
    return str(value)


def settings_view(lang: str, user_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """The settings message and its keyboard; the current choice of each row is marked ✓."""
    from videobot.providers import speech_voices

    settings = get_settings()
    chosen = preferences.get(user_id)
    voices = speech_voices()
    current = {"aspect_ratio": chosen.aspect_ratio or settings.aspect_ratio,
               "voice": chosen.voice if chosen.voice in voices else voices[0],
               "narration_language": chosen.narration_language,
               "subtitles": settings.subtitles if chosen.subtitles is None else chosen.subtitles}
    options = {"aspect_ratio": preferences.ASPECT_RATIOS, "voice": voices,
               "narration_language": preferences.LANGUAGES, "subtitles": (True, False)}
    rows = []
    for field, values in options.items():
        buttons = [InlineKeyboardButton(("✓ " if v == current[field] else "") + _value_name(lang, field, v),
                                        callback_data=_data("st", FIELD_CODES[field], _encode(v)))
                   for v in values]
        rows += [buttons[i:i + 4] for i in range(0, len(buttons), 4)]
    message = texts.text(lang, "settings", ratio=current["aspect_ratio"], voice=current["voice"],
                         language=_value_name(lang, "narration_language", current["narration_language"]),
                         subtitles=_value_name(lang, "subtitles", current["subtitles"]))
    return message, InlineKeyboardMarkup(rows)


def _encode(value) -> str:
    return ("1" if value else "0") if isinstance(value, bool) else str(value)


def _decode(field: str, raw: str):
    return raw == "1" if field == "subtitles" else raw


async def settings_command(bot: Bot, message: Message, lang: str) -> None:
    text, keyboard = settings_view(lang, message.from_user.id)
    await call(lambda: bot.send_message(message.chat_id, text, reply_markup=keyboard), "sendMessage")


async def _choose(bot: Bot, query: CallbackQuery, lang: str, code: str, raw: str) -> str:
    field = SETTING_CODES.get(code)
    if field is None:
        return texts.text(lang, "unknown_button")
    try:
        preferences.choose(query.from_user.id, field, _decode(field, raw))
    except ValueError:
        return texts.text(lang, "settings_unavailable")
    text, keyboard = settings_view(lang, query.from_user.id)
    try:
        await call(lambda: query.edit_message_text(text, reply_markup=keyboard), "editMessageText")
    except BadRequest as exc:  # the same text (a double tap) or a message too old to edit
        logger.info("settings message not edited", extra={"error": str(exc)})
    return texts.text(lang, "settings_saved", value=_value_name(lang, field, _decode(field, raw)))


# ---- /history ---------------------------------------------------------------------------

def recent_jobs(chat_id: int, limit: int) -> list[dict]:
    return db.query(f"SELECT * FROM {jobs.JOBS} WHERE chat_id = %s ORDER BY created_at DESC, id LIMIT %s",
                    (chat_id, limit))


def history_view(lang: str, chat_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    rows = recent_jobs(chat_id, get_settings().history_jobs)
    if not rows:
        return texts.text(lang, "no_job"), None
    lines, buttons = [texts.text(lang, "history_title")], []
    for n, job in enumerate(rows, 1):
        lines.append(texts.text(lang, "history_line", n=n, at=job["created_at"].strftime("%d.%m %H:%M"),
                                prompt=texts.clip(job["prompt"], 60),
                                status=texts.status_name(lang, job["status"]),
                                usd=f"{job_cost_usd(job['id']):.2f}", job_id=job["id"]))
        if job["status"] == "completed" and job["final_video_path"]:
            buttons.append([InlineKeyboardButton(texts.text(lang, "history_button", n=n,
                                                            prompt=texts.clip(job["prompt"], 30)),
                                                 callback_data=_data("hv", job["id"]))])
    text = texts.clip("\n\n".join(lines), texts.TELEGRAM_TEXT_LIMIT)
    return text, InlineKeyboardMarkup(buttons) if buttons else None


async def history_command(bot: Bot, message: Message, lang: str) -> None:
    text, keyboard = history_view(lang, message.chat_id)
    await call(lambda: bot.send_message(message.chat_id, text, reply_markup=keyboard), "sendMessage")


async def _resend(bot: Bot, chat_id: int, lang: str, job_id: str) -> str:
    job = jobs.find_job(job_id)
    if job is None or job["chat_id"] != chat_id or job["status"] != "completed" or not job["final_video_path"]:
        return texts.text(lang, "history_gone")
    store = storage.get_storage()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = store.download(job["final_video_path"], Path(tmp) / "video.mp4")
        except Exception as exc:  # noqa: BLE001 - expired by the bucket's lifecycle, or deleted
            logger.info("finished video no longer stored", extra={"job_id": job_id, "error": str(exc)})
            return texts.text(lang, "history_gone")
        caption = texts.clip(texts.text(lang, "history_caption", prompt=texts.clip(job["prompt"], 200))
                             + "\n" + cost_line(lang, job_id), texts.TELEGRAM_CAPTION_LIMIT)
        duration = int(job["final_video_duration"]) if job["final_video_duration"] else None

        async def send():
            with path.open("rb") as video:
                return await bot.send_video(chat_id, video, caption=caption, duration=duration,
                                            supports_streaming=True, filename="video.mp4")

        await call(send, "sendVideo")
    return texts.text(lang, "history_sent")


# ---- buttons ----------------------------------------------------------------------------

async def on_callback(bot: Bot, query: CallbackQuery, lang: str) -> str:
    """The answer for a settings or history button."""
    from videobot.telegram import handlers

    if not handlers._allowed(query.from_user.id if query.from_user else None):
        return texts.text(lang, "not_allowed")
    chat_id = query.message.chat.id if query.message else None
    parts = (query.data or "").split("|")
    if chat_id is None:
        return texts.text(lang, "unknown_button")
    if parts[0] == "st" and len(parts) == 3:
        return await _choose(bot, query, lang, parts[1], parts[2])
    if parts[0] == "hv" and len(parts) == 2:
        return await _resend(bot, chat_id, lang, parts[1])
    return texts.text(lang, "unknown_button")


# ---- feedback at a gate -----------------------------------------------------------------

_REDO = re.compile(r"^\s*(?:переделай(?:те)?|переделать|redo)\b(.*)$", re.IGNORECASE | re.DOTALL)
_REWRITE = re.compile(r"^\s*(?:перепиши(?:те)?|измени(?:те)?|rewrite|change)\b[\s:,.-]*(\S.*)$",
                      re.IGNORECASE | re.DOTALL)
_NUMBERS = re.compile(r"^\s*((?:\d+\s*(?:,|и|and)?\s*)+)(.*)$", re.IGNORECASE | re.DOTALL)


def parse_redo(text: str, count: int) -> tuple[list[int], str] | None:
    """"переделай 3", "redo 3 5 brighter", "переделай 2, 4 и 7: светлее" -> (0-based segment
    indexes, the words after the numbers); None when it names no valid segment."""
    match = _REDO.match(text)
    numbers = _NUMBERS.match(match.group(1)) if match else None
    if numbers is None:
        return None
    chosen = sorted({int(n) for n in re.findall(r"\d+", numbers.group(1))})
    if not chosen or chosen[0] < 1 or chosen[-1] > count:
        return None
    return [n - 1 for n in chosen], numbers.group(2).strip(" \t\n:;,.-—")


async def gate_feedback(bot: Bot, message: Message, lang: str, text: str) -> bool:
    """A text while a gate is open is feedback: at the script gate, a reply to one of the bot's
    messages (or "перепиши: …"), saying what to change; at the image and clip gates,
    "переделай 3 5". A plain new text at the script gate is still a (refused) second topic.
    True when the message was taken as feedback."""
    from videobot import control
    from videobot.telegram import handlers

    job = jobs.active_job_for_chat(message.chat_id)
    gate = jobs.open_gate_for_job(job["id"]) if job else None
    if gate is None:
        return False
    settings = get_settings()
    stage, chat_id = gate["stage"], message.chat_id
    if stage == "script":
        keyword = _REWRITE.match(text)
        if not keyword and message.reply_to_message is None:
            return False
        feedback = keyword.group(1).strip() if keyword else text
        result = await asyncio.to_thread(lambda: control.revise(job["id"], stage, feedback=feedback))
        numbers = ""
    else:
        parsed = parse_redo(text, settings.segment_count)
        if parsed is None:
            what = texts.text(lang, "stage_images" if stage == "images" else "stage_videos")
            await handlers._reply(bot, chat_id, lang, "redo_hint", what=what, count=settings.segment_count)
            return True
        indexes, words = parsed
        result = await asyncio.to_thread(
            lambda: control.revise(job["id"], stage, feedback=words or None, segments=indexes))
        numbers = ", ".join(str(i + 1) for i in indexes)
    if result.done:
        rounds = jobs.get_gate(job["id"], stage)["revisions"]
        await handlers._reply(bot, chat_id, lang, f"revising_{stage}", numbers=numbers, n=rounds,
                              limit=settings.max_gate_revisions, usd=f"{job_cost_usd(job['id']):.2f}")
    elif result.reason == "limit":
        await handlers._reply(bot, chat_id, lang, "revise_limit", limit=settings.max_gate_revisions)
    elif result.reason == "expired":
        await handlers._reply(bot, chat_id, lang, "expired")
    else:
        await handlers._reply(bot, chat_id, lang, "nothing_to_approve")
    return True
