"""/history: the chat's latest jobs with their status and cost, and a button to get a
finished video again."""

from __future__ import annotations

import tempfile
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message

from videobot import runtime
from videobot.data import jobs
from videobot.observability import logger
from videobot.telegram import callbacks, texts
from videobot.telegram.bot import call
from videobot.telegram.cost import cost_line, job_cost_usd


def history_view(lang: str, chat_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    rows = jobs.recent_jobs_for_chat(chat_id, runtime.current().settings.history_jobs)
    if not rows:
        return texts.text(lang, "no_job"), None
    lines, buttons = [texts.text(lang, "history_title")], []
    for n, job in enumerate(rows, 1):
        lines.append(texts.text(lang, "history_line", n=n, at=job.created_at.strftime("%d.%m %H:%M"),
                                prompt=texts.clip(job.prompt, 60), status=texts.status_name(lang, job.status),
                                usd=f"{job_cost_usd(job.id):.2f}", job_id=job.id))
        if job.status == "completed" and job.final_video_path:
            buttons.append([InlineKeyboardButton(texts.text(lang, "history_button", n=n,
                                                            prompt=texts.clip(job.prompt, 30)),
                                                 callback_data=callbacks.make(callbacks.HISTORY, job.id))])
    text = texts.clip("\n\n".join(lines), texts.TELEGRAM_TEXT_LIMIT)
    return text, InlineKeyboardMarkup(buttons) if buttons else None


async def history_command(bot: Bot, message: Message, lang: str) -> None:
    text, keyboard = history_view(lang, message.chat_id)
    await call(lambda: bot.send_message(message.chat_id, text, reply_markup=keyboard), "sendMessage")


async def resend(bot: Bot, chat_id: int, lang: str, job_id: str) -> str:
    """A history button: send the finished video again, if it is still stored."""
    job = jobs.find_job(job_id)
    if job is None or job.chat_id != chat_id or job.status != "completed" or not job.final_video_path:
        return texts.text(lang, "history_gone")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = runtime.current().storage.download(job.final_video_path, Path(tmp) / "video.mp4")
        except Exception as exc:  # noqa: BLE001 - expired by the bucket's lifecycle, or deleted
            logger.info("finished video no longer stored", extra={"job_id": job_id, "error": str(exc)})
            return texts.text(lang, "history_gone")
        caption = texts.clip(texts.text(lang, "history_caption", prompt=texts.clip(job.prompt, 200))
                             + "\n" + cost_line(lang, job_id), texts.TELEGRAM_CAPTION_LIMIT)
        duration = int(job.final_video_duration) if job.final_video_duration else None

        async def send():
            with path.open("rb") as video:
                return await bot.send_video(chat_id, video, caption=caption, duration=duration,
                                            supports_streaming=True, filename="video.mp4")

        await call(send, "sendVideo")
    return texts.text(lang, "history_sent")
