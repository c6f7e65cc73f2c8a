"""/history: the chat's latest jobs with their status and cost, and a button to get a
finished video again (sent by HandleSlowUpdateFunction, not inside the webhook)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message

from videobot.data import jobs, notifications
from videobot.observability import logger
from videobot.pipeline import JobStatus
from videobot.runtime import Runtime
from videobot.telegram import callbacks, handover, texts
from videobot.telegram.bot import call
from videobot.telegram.cost import cost_line, job_cost_usd
from videobot.telegram.replies import reply


def history_view(rt: Runtime, lang: str, chat_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    rows = jobs.recent_jobs_for_chat(rt.db, chat_id, rt.settings.telegram.history_jobs)
    if not rows:
        return texts.text(lang, "no_job"), None
    lines, buttons = [texts.text(lang, "history_title")], []
    for n, job in enumerate(rows, 1):
        lines.append(
            texts.text(
                lang,
                "history_line",
                n=n,
                at=job.created_at.strftime("%d.%m %H:%M"),
                prompt=texts.clip(job.prompt, 60),
                status=texts.status_name(lang, job.status),
                usd=f"{job_cost_usd(rt.db, job.id):.2f}",
                job_id=job.id,
            )
        )
        if job.status == JobStatus.COMPLETED and job.final_video_path:
            buttons.append(
                [
                    InlineKeyboardButton(
                        texts.text(lang, "history_button", n=n, prompt=texts.clip(job.prompt, 30)),
                        callback_data=callbacks.make(callbacks.HISTORY, job.id),
                    )
                ]
            )
    text = texts.clip("\n\n".join(lines), texts.TELEGRAM_TEXT_LIMIT)
    return text, InlineKeyboardMarkup(buttons) if buttons else None


async def history_command(rt: Runtime, bot: Bot, message: Message, lang: str) -> None:
    text, keyboard = history_view(rt, lang, message.chat_id)
    await call(lambda: bot.send_message(message.chat_id, text, reply_markup=keyboard), "sendMessage", rt.settings)


async def resend(rt: Runtime, bot: Bot, chat_id: int, lang: str, job_id: str, request_id: str) -> str:
    """A history button, in the webhook: the quick checks, then the resend (a sendVideo of up
    to 50 MB) is handed to HandleSlowUpdateFunction. `request_id` (the tap's callback query id)
    makes the resend once per tap, also when Lambda runs the event again."""
    job = jobs.find_job(rt.db, job_id)
    if job is None or job.chat_id != chat_id or job.status != JobStatus.COMPLETED or not job.final_video_path:
        return texts.text(lang, "history_gone")
    await asyncio.to_thread(
        handover.hand_over, rt, handover.RESEND_VIDEO, chat_id=chat_id, lang=lang, job_id=job_id, request_id=request_id
    )
    return texts.text(lang, "history_sent")


async def resend_now(rt: Runtime, bot: Bot, chat_id: int, lang: str, job_id: str, request_id: str) -> dict:
    """HandleSlowUpdateFunction's part: send the finished video again, if it is still stored.
    The send is recorded first (notifications, per job and tap): a retried run finds it and
    sends nothing; a send that failed before leaving is released for the retry, and one whose
    outcome is unknown (a timeout after the upload left) stays recorded, never sent twice."""
    job = jobs.find_job(rt.db, job_id)
    if job is None or job.chat_id != chat_id or job.status != JobStatus.COMPLETED or not job.final_video_path:
        await reply(rt, bot, chat_id, lang, "history_gone")
        return {"sent": False, "reason": "gone"}
    key = f"resend:{request_id}"
    if not notifications.claim(rt.db, job_id, key):
        logger.info("resend already done for this tap", extra={"job_id": job_id})
        return {"sent": False, "reason": "duplicate"}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                path = rt.storage.download(job.final_video_path, Path(tmp) / "video.mp4")
            except Exception as exc:  # noqa: BLE001 - expired by the bucket's lifecycle, or deleted
                logger.info("finished video no longer stored", extra={"job_id": job_id, "error": str(exc)})
                await reply(rt, bot, chat_id, lang, "history_gone")
                return {"sent": False, "reason": "gone"}
            caption = texts.clip(
                texts.text(lang, "history_caption", prompt=texts.clip(job.prompt, 200))
                + "\n"
                + cost_line(rt.db, lang, job_id),
                texts.TELEGRAM_CAPTION_LIMIT,
            )
            duration = int(job.final_video_duration) if job.final_video_duration else None

            async def send():
                with path.open("rb") as video:
                    return await bot.send_video(
                        chat_id,
                        video,
                        caption=caption,
                        duration=duration,
                        supports_streaming=True,
                        filename="video.mp4",
                    )

            await call(send, "sendVideo", rt.settings)  # None: timed out after it left, taken as sent
    except Exception:
        notifications.release(rt.db, job_id, key)  # nothing reached the chat: Lambda's retry sends it
        raise
    notifications.confirm(rt.db, job_id, key)
    return {"sent": True}
