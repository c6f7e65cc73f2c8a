"""/start, /help and 📊 Статус."""

from __future__ import annotations

from telegram import Bot, Message

from videobot.data import gates, jobs, segments
from videobot.pipeline import GateId
from videobot.runtime import Runtime
from videobot.telegram import texts, ui
from videobot.telegram.cost import cost_line
from videobot.telegram.replies import reply, send


async def start(rt: Runtime, bot: Bot, message: Message, lang: str) -> None:
    name = (message.from_user.first_name if message.from_user else None) or "👋"
    await reply(rt, bot, message.chat_id, lang, "welcome", name=name)


async def help_(rt: Runtime, bot: Bot, message: Message, lang: str) -> None:
    settings = rt.settings
    await reply(
        rt,
        bot,
        message.chat_id,
        lang,
        "help",
        max_chars=settings.telegram.max_topic_chars,
        minutes=max(1, settings.pipeline.approval_timeout_seconds // 60),
        confirm_usd=f"{settings.pipeline.redo_confirm_usd:.2f}",
    )


def status_for_chat(rt: Runtime, chat_id: int, lang: str) -> str:
    job = jobs.latest_job_for_chat(rt.db, chat_id)
    if job is None:
        return texts.text(lang, "no_job")
    open_gates = (GateId.find(gate.stage) for gate in gates.open_gates_for_job(rt.db, job.id))
    refused = [gate.segment for gate in open_gates if gate and gate.segment is not None]
    counts = segments.segment_counts(rt.db, job.id)
    status = ui.status_text(lang, job, counts, rt.settings.pipeline.segment_count, refused)
    return texts.clip(status + "\n" + cost_line(rt.db, lang, job.id), texts.TELEGRAM_TEXT_LIMIT)


async def status(rt: Runtime, bot: Bot, message: Message, lang: str) -> None:
    await send(rt, bot, message.chat_id, lang, status_for_chat(rt, message.chat_id, lang))
