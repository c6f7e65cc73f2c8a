"""A topic starts a job: after the checks a person would expect (something visible, not too
long, one job at a time per chat, the daily job limit and the daily budget)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from telegram import Bot, Message

from videobot import control, preferences, usage
from videobot.data import jobs, ledger
from videobot.errors import BudgetExceeded
from videobot.observability import logger
from videobot.runtime import Runtime
from videobot.telegram import texts
from videobot.telegram.estimates import estimated_job_usd
from videobot.telegram.replies import reply, sender_id, visible


async def start_topic(
    rt: Runtime, bot: Bot, message: Message, lang: str, topic: str, update_id: int, *, voice_file_id: str | None = None
) -> None:
    """Start a job for a typed topic, or for a voice note (`voice_file_id`, `topic` empty):
    its execution transcribes it first (TranscribeVoiceTopic); the same limits apply."""
    settings = rt.settings
    chat_id, user_id = message.chat_id, sender_id(message)
    if voice_file_id is None and not visible(topic):
        await reply(rt, bot, chat_id, lang, "empty_topic")
        return
    if len(topic) > settings.telegram.max_topic_chars:
        await reply(
            rt, bot, chat_id, lang, "topic_too_long", length=len(topic), max_chars=settings.telegram.max_topic_chars
        )
        return
    # One topic at a time per chat: the check and the start run under the chat's lock; the
    # budgets' check, the start and the new job's hold under the ledger's lock, so users who
    # start at once are counted one after another, jobs in flight included.
    with rt.db.connect() as conn, conn.cursor() as cur:
        jobs.lock_chat(cur, chat_id)
        redelivered = jobs.update_started(cur, update_id)  # a redelivered update finds its job
        active = None if redelivered else jobs.active_job_for_chat(rt.db, chat_id)
        next_slot = None if redelivered or active else _daily_limit_reached(rt, cur, user_id)
        # the user's video model, priced as it bills: the budgets count its real credits
        estimate = estimated_job_usd(
            rt,
            preferences.get(rt.db, user_id).aspect_ratio or settings.pipeline.aspect_ratio,
            preferences.video_model_for(rt.db, user_id, settings),
        )
        over = None if redelivered or active or next_slot else _over_budget(rt, cur, user_id, estimate)
        if active is None and next_slot is None and over is None:
            job, created = await asyncio.to_thread(
                control.start_job,
                rt,
                user_id=user_id,
                chat_id=chat_id,
                prompt=topic,
                source_update_id=update_id,
                voice_file_id=voice_file_id,
            )
            if created:
                ledger.hold(cur, job.id, estimate)
    if active is not None:
        status = texts.status_name(lang, active.status, voice=bool(active.voice_file_id))
        await reply(rt, bot, chat_id, lang, "busy", job_id=active.id, status=status)
        return
    if next_slot is not None:
        logger.info("daily job limit reached", extra={"user_id": user_id})
        await reply(
            rt,
            bot,
            chat_id,
            lang,
            "daily_limit",
            limit=settings.limits.max_jobs_per_user_per_day,
            time=next_slot.strftime("%Y-%m-%d %H:%M"),
        )
        return
    if over is not None:
        await _refuse_over_budget(rt, bot, chat_id, lang, over, estimate)
        return
    logger.info("topic accepted", extra={"job_id": job.id, "new_job": created})
    usd = estimated_job_usd(rt, job.aspect_ratio, job.video_model)
    await reply(rt, bot, chat_id, lang, "accepted", job_id=job.id, usd=f"{usd:.2f}")


def _daily_limit_reached(rt: Runtime, cur, user_id: int) -> datetime | None:
    """None while the user may start another job; else when the oldest of the last 24 hours'
    jobs leaves the window (UTC). Cancelled and failed jobs count: they were paid for too."""
    limit = rt.settings.limits.max_jobs_per_user_per_day
    if not limit:
        return None
    started = jobs.recent_start_times(cur, user_id, limit)
    return started[-1] + timedelta(hours=24) if len(started) >= limit else None


def _over_budget(rt: Runtime, cur, user_id: int, estimate: float) -> BudgetExceeded | None:
    """None while the user's and everyone's last 24 hours (jobs in flight included: their
    holds and reservations) and this job's estimate fit the budgets; else why not. Takes the
    ledger's lock for the rest of the transaction: the start and the hold follow under it."""
    ledger.lock(cur)
    try:
        ledger.check(cur, user_id, estimate, usage.budgets(rt.settings))
    except BudgetExceeded as exc:
        return exc
    return None


async def _refuse_over_budget(rt: Runtime, bot: Bot, chat_id: int, lang: str, over: BudgetExceeded, estimate: float):
    logger.info("budget reached", extra={"scope": over.scope, "spent_usd": over.spent})
    amounts = {"spent": f"{over.spent:.2f}", "budget": f"{over.budget:.2f}", "estimate": f"{estimate:.2f}"}
    if estimate > over.budget:  # no wait makes room for it
        await reply(rt, bot, chat_id, lang, "budget_too_small", **amounts)
    elif over.scope == "user":
        await reply(rt, bot, chat_id, lang, "daily_budget", room=f"{over.budget - estimate:.2f}", **amounts)
    else:
        await reply(rt, bot, chat_id, lang, "bot_budget", **amounts)
