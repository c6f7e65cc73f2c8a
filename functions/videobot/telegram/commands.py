"""/start, /help and 📊 Статус."""

from __future__ import annotations

from telegram import Bot, Message

from videobot import runtime
from videobot.data import gates, jobs, segments
from videobot.telegram import texts, ui
from videobot.telegram.cost import cost_line
from videobot.telegram.replies import reply, send


async def start(bot: Bot, message: Message, lang: str) -> None:
    name = (message.from_user.first_name if message.from_user else None) or "👋"
    await reply(bot, message.chat_id, lang, "welcome", name=name)


async def help_(bot: Bot, message: Message, lang: str) -> None:
    settings = runtime.current().settings
    await reply(
        bot,
        message.chat_id,
        lang,
        "help",
        max_chars=settings.max_topic_chars,
        minutes=max(1, settings.approval_timeout_seconds // 60),
    )


def status_for_chat(chat_id: int, lang: str) -> str:
    job = jobs.latest_job_for_chat(chat_id)
    if job is None:
        return texts.text(lang, "no_job")
    refused = [r[1] for r in map(jobs.parse_refusal_stage, (g.stage for g in gates.open_gates_for_job(job.id))) if r]
    status = ui.status_text(
        lang, job, segments.segment_counts(job.id), runtime.current().settings.segment_count, refused
    )
    return texts.clip(status + "\n" + cost_line(lang, job.id), texts.TELEGRAM_TEXT_LIMIT)


async def status(bot: Bot, message: Message, lang: str) -> None:
    await send(bot, message.chat_id, lang, status_for_chat(message.chat_id, lang))
