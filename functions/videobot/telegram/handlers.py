"""The bot's answers to Telegram updates: commands, the persistent keyboard, topics, and the
inline approval buttons. The webhook has already verified the secret and claimed the
update_id; everything here is safe to run again for the same update."""

from __future__ import annotations

import asyncio

from telegram import Bot, CallbackQuery, Message, Update

from videobot import control, db, jobs, usage
from videobot.config import get_settings
from videobot.observability import logger
from videobot.telegram import steering, store, texts, ui
from videobot.telegram.bot import call

CALLBACK_ANSWER_LIMIT = 200


async def handle_update(bot: Bot, data: dict) -> None:
    update = Update.de_json(data, bot)
    if update.callback_query:
        await on_callback(bot, update.callback_query)
    elif update.message:
        await on_message(bot, update.message, update.update_id)
    elif update.edited_message:
        message = update.edited_message
        if message.chat.type == "private" and _allowed(message.from_user.id if message.from_user else None):
            await _reply(bot, message.chat_id, _lang(message.from_user), "edited_ignored")
    else:
        logger.info("update ignored", extra={"update_id": update.update_id})


def _lang(user) -> str:
    return texts.language_of(user.language_code if user else None)


def _allowed(user_id: int | None) -> bool:
    allowed = get_settings().allowed_user_id_set
    return not allowed or (user_id is not None and user_id in allowed)


async def _send(bot: Bot, chat_id: int, message: str, keyboard: bool = True) -> None:
    """A plain-text message (no parse mode: user text can never break it), with the seed's
    persistent keyboard unless the chat must not get it."""
    await call(lambda: bot.send_message(chat_id, texts.clip(message, texts.TELEGRAM_TEXT_LIMIT),
                                        reply_markup=ui.main_keyboard() if keyboard else None),
               "sendMessage")


async def _reply(bot: Bot, chat_id: int, lang: str, key: str, **values) -> None:
    await _send(bot, chat_id, texts.text(lang, key, **values))


# ---- messages ---------------------------------------------------------------------------

async def on_message(bot: Bot, message: Message, update_id: int) -> None:
    user = message.from_user
    lang = _lang(user)
    chat_id = message.chat_id
    if message.chat.type != "private":
        if message.text and message.text.startswith("/"):
            await _send(bot, chat_id, texts.text(lang, "private_only"), keyboard=False)
        return
    if not _allowed(user.id if user else None):
        logger.info("user not on the allowlist", extra={"user_id": user.id if user else None})
        await _send(bot, chat_id, texts.text(lang, "not_allowed"), keyboard=False)
        return
    store.remember_chat(chat_id, user.id if user else None, user.language_code if user else None)
    if message.text is None and (message.voice or message.audio):
        await steering.voice_topic(bot, message, lang, update_id)  # a spoken topic
        return
    if message.text is None:
        key = "voice_unsupported" if (message.voice or message.audio or message.video_note) else "unsupported_message"
        await _reply(bot, chat_id, lang, key)
        return
    text = storable_text(message.text).strip()
    if text.startswith("/"):
        command = text.split()[0][1:].split("@")[0].lower()
        actions = {"start": _start, "help": _help, "status": _status,
                   "settings": steering.settings_command, "history": steering.history_command}
        action = actions.get(command)
        if action is None:
            await _reply(bot, chat_id, lang, "unknown_command")
        else:
            await action(bot, message, lang)
        return
    buttons = {texts.BTN_START: _start, texts.BTN_STATUS: _status, texts.BTN_APPROVE: _approve_current,
               texts.BTN_REJECT: _reject_current}
    if text in buttons:
        await buttons[text](bot, message, lang)
        return
    if await steering.gate_feedback(bot, message, lang, text):  # feedback at an open gate
        return
    await _topic(bot, message, lang, text, update_id)


def _visible(text: str) -> bool:
    import unicodedata

    return any(unicodedata.category(ch)[0] not in "CZ" for ch in text)


def storable_text(text: str) -> str:
    """The text without what PostgreSQL cannot store and UTF-8 cannot encode (NUL, lone
    surrogates from a \\uD800 JSON escape): such a topic would otherwise fail unanswered."""
    return "".join(ch for ch in text if ch != "\x00" and not "\ud800" <= ch <= "\udfff")


async def _start(bot: Bot, message: Message, lang: str) -> None:
    name = (message.from_user.first_name if message.from_user else None) or "👋"
    await _reply(bot, message.chat_id, lang, "welcome", name=name)


async def _help(bot: Bot, message: Message, lang: str) -> None:
    settings = get_settings()
    await _reply(bot, message.chat_id, lang, "help", max_chars=settings.max_topic_chars,
                 minutes=max(1, settings.approval_timeout_seconds // 60))


def status_for_chat(chat_id: int, lang: str) -> str:
    job = jobs.latest_job_for_chat(chat_id)
    if job is None:
        return texts.text(lang, "no_job")
    status = ui.status_text(lang, job, jobs.segment_counts(job["id"]), get_settings().segment_count)
    return texts.clip(status + "\n" + steering.cost_line(lang, job["id"]), texts.TELEGRAM_TEXT_LIMIT)


async def _status(bot: Bot, message: Message, lang: str) -> None:
    await _send(bot, message.chat_id, status_for_chat(message.chat_id, lang))


async def _topic(bot: Bot, message: Message, lang: str, topic: str, update_id: int) -> None:
    settings = get_settings()
    if not _visible(topic):  # empty, or only spaces, zero-width and direction marks
        await _reply(bot, message.chat_id, lang, "empty_topic")
        return
    if len(topic) > settings.max_topic_chars:
        await _reply(bot, message.chat_id, lang, "topic_too_long", length=len(topic), max_chars=settings.max_topic_chars)
        return
    # One topic at a time per chat: Telegram may deliver a chat's updates in parallel, so the
    # check and the start run under a per-chat advisory lock (held by this transaction).
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"telegram-chat:{message.chat_id}",))
        # A redelivered update finds the job it created; it never starts a second one.
        cur.execute(f"SELECT 1 FROM {jobs.JOBS} WHERE source_update_id = %s", (update_id,))
        redelivered = cur.fetchone() is not None
        active = None if redelivered else jobs.active_job_for_chat(message.chat_id)
        next_slot = None if redelivered or active else _daily_limit_reached(cur, message.from_user.id)
        spent = None if redelivered or active or next_slot else _daily_budget_spent(message.from_user.id)
        if active is None and next_slot is None and spent is None:
            job, created = await asyncio.to_thread(
                control.start_job, user_id=message.from_user.id, chat_id=message.chat_id, prompt=topic,
                source_update_id=update_id)
    if active is not None:
        await _reply(bot, message.chat_id, lang, "busy", job_id=active["id"],
                     status=texts.status_name(lang, active["status"]))
        return
    if next_slot is not None:
        logger.info("daily job limit reached", extra={"user_id": message.from_user.id})
        await _reply(bot, message.chat_id, lang, "daily_limit", limit=settings.max_jobs_per_user_per_day,
                     time=next_slot.strftime("%Y-%m-%d %H:%M"))
        return
    if spent is not None:
        logger.info("daily budget reached", extra={"user_id": message.from_user.id, "spent_usd": spent})
        await _reply(bot, message.chat_id, lang, "daily_budget", spent=f"{spent:.2f}",
                     budget=f"{settings.max_usd_per_user_per_day:.2f}")
        return
    logger.info("topic accepted", extra={"job_id": job["id"], "new_job": created})
    await _reply(bot, message.chat_id, lang, "accepted", job_id=job["id"])


def _daily_limit_reached(cur, user_id: int):
    """None while the user may start another job; else when the oldest of the last 24 hours'
    jobs leaves the window (UTC). Cancelled and failed jobs count: they were paid for too."""
    limit = get_settings().max_jobs_per_user_per_day
    if not limit:
        return None
    cur.execute(f"SELECT created_at FROM {jobs.JOBS} WHERE user_id = %s"
                " AND created_at > (now() AT TIME ZONE 'utc') - interval '24 hours'"
                " ORDER BY created_at DESC LIMIT %s", (user_id, limit))
    rows = cur.fetchall()
    if len(rows) < limit:
        return None
    from datetime import timedelta

    return rows[-1][0] + timedelta(hours=24)


def _daily_budget_spent(user_id: int) -> float | None:
    """None while the user's last 24 hours cost less than their daily budget; else the spend."""
    budget = get_settings().max_usd_per_user_per_day
    if not budget:
        return None
    spent = usage.spent_by_user(user_id)
    return spent if spent >= budget else None


async def _approve_current(bot: Bot, message: Message, lang: str) -> None:
    job = jobs.active_job_for_chat(message.chat_id)
    gate = jobs.open_gate_for_job(job["id"]) if job else None
    if gate is None:
        await _reply(bot, message.chat_id, lang, "nothing_to_approve")
        return
    result = await asyncio.to_thread(control.decide, job["id"], gate["stage"], True)
    await _reply(bot, message.chat_id, lang, _decision_text(result, job, gate["stage"]))


async def _reject_current(bot: Bot, message: Message, lang: str) -> None:
    job = jobs.active_job_for_chat(message.chat_id)
    if job is None:
        await _reply(bot, message.chat_id, lang, "nothing_to_reject")
        return
    # The confirmation comes from the pipeline's CancelJob (job_cancelled), once.
    result = await asyncio.to_thread(control.cancel, job["id"])
    if not result.done:
        await _reply(bot, message.chat_id, lang, "nothing_to_reject")


def _decision_text(result: control.Decision, job: dict, stage: str) -> str:
    """The catalogue key that answers an approve/reject decision."""
    if result.done:
        return f"approved_{stage}" if result.reason == "approved" else "cb_rejected"
    if result.reason == "expired":
        return "expired"
    return "nothing_to_approve"


# ---- inline buttons ---------------------------------------------------------------------

async def on_callback(bot: Bot, query: CallbackQuery) -> None:
    """Every callback query is answered, whatever happens."""
    lang = _lang(query.from_user)
    answer = texts.text(lang, "unknown_button")
    try:
        if steering.owns(query.data):  # /settings and /history buttons
            answer = await steering.on_callback(bot, query, lang)
        else:
            answer = await _decide_from_button(bot, query, lang)
    finally:
        await call(lambda: query.answer(texts.clip(answer, CALLBACK_ANSWER_LIMIT)), "answerCallbackQuery")


async def _decide_from_button(bot: Bot, query: CallbackQuery, lang: str) -> str:
    t = lambda key, **kw: texts.text(lang, key, **kw)
    if not _allowed(query.from_user.id if query.from_user else None):
        return t("not_allowed")
    parsed = ui.parse_callback(query.data)
    chat_id = query.message.chat.id if query.message else None
    if parsed is None or chat_id is None:
        return t("unknown_button")
    approve, job_id, stage = parsed
    job = jobs.find_job(job_id)
    if job is None or job["chat_id"] != chat_id:
        return t("not_at_this_stage")
    latest = jobs.latest_job_for_chat(chat_id)
    if latest and latest["id"] != job_id:
        return t("older_job", job_id=latest["id"])
    if job["status"] in jobs.TERMINAL_STATUSES:
        return t("job_over", status=texts.status_name(lang, job["status"]))
    store.remember_chat(chat_id, query.from_user.id, query.from_user.language_code)
    result = await asyncio.to_thread(control.decide, job_id, stage, approve)
    if result.done:
        await _drop_buttons(bot, query)
        if approve:
            await _reply(bot, chat_id, lang, f"approved_{stage}")
            return t("cb_approved")
        return t("cb_rejected")
    if result.reason == "expired":
        return t("expired")
    gate = jobs.get_gate(job_id, stage)
    if gate and gate["decision"]:
        return t("already_decided", decision=t(f"decision_{gate['decision']}"))
    return t("not_at_this_stage")


async def _drop_buttons(bot: Bot, query: CallbackQuery) -> None:
    """Remove the decided question's buttons, so they cannot be tapped again by mistake."""
    from telegram.error import BadRequest

    try:
        await call(lambda: query.edit_message_reply_markup(reply_markup=None), "editMessageReplyMarkup")
    except BadRequest as exc:  # the message is too old to edit, or already has no buttons
        logger.info("could not remove buttons", extra={"error": str(exc)})
