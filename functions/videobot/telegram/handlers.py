"""The router: every Telegram update reaches the feature that answers it (commands, the
persistent keyboard, topics, voice, /settings, /history, gate feedback, inline buttons). The
webhook has already verified the secret and claimed the update_id; everything here is safe to
run again for the same update."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Bot, CallbackQuery, Message, Update
from telegram.error import BadRequest

from videobot.data import chats
from videobot.observability import logger
from videobot.runtime import Runtime
from videobot.telegram import callbacks, commands, decisions, feedback, history, texts, user_settings, voice
from videobot.telegram.bot import call
from videobot.telegram.replies import allowed, lang_of, reply, send, storable_text
from videobot.telegram.topics import start_topic

CALLBACK_ANSWER_LIMIT = 200

COMMANDS = {
    "start": commands.start,
    "help": commands.help_,
    "status": commands.status,
    "settings": user_settings.settings_command,
    "history": history.history_command,
}
# The persistent keyboard's buttons, by name: a label in either language works. ✅ ("approve")
# is feedback.approve_current, keyed by its update as typed words are.
BUTTONS = {
    "start": commands.start,
    "status": commands.status,
    "reject": decisions.reject_current,
}


async def handle_update(rt: Runtime, bot: Bot, data: dict) -> None:
    try:
        update = Update.de_json(data, bot)
    # not an update Telegram sends (a date no clock holds: OSError or OverflowError)
    except (TypeError, KeyError, ValueError, AttributeError, OSError, OverflowError) as exc:
        logger.info("update not understood", extra={"error_type": type(exc).__name__})
        return
    if _malformed(update):  # fields Telegram always sends, missing or of the wrong type
        logger.info("update not understood", extra={"error_type": "MissingField"})
        return
    if update.callback_query:
        await on_callback(rt, bot, update.callback_query, update.update_id)
    elif update.message:
        await on_message(rt, bot, update.message, update.update_id)
    elif update.edited_message:
        message = update.edited_message
        if message.chat.type == "private" and allowed(rt.settings, message.from_user.id if message.from_user else None):
            await reply(rt, bot, message.chat_id, lang_of(message.from_user), "edited_ignored")
    else:
        logger.info("update ignored", extra={"update_id": update.update_id})


def _malformed(update: Update) -> bool:
    """An update without what every real one of its kind carries: a message's chat (an int id,
    a str type), a text that is a str, a sender with an int id; a callback query's sender."""
    # typed as Any: python-telegram-bot's types say what Telegram sends; this checks they hold
    message: Any = update.message or update.edited_message
    query: Any = update.callback_query
    users = [message.from_user if message else None, query.from_user if query else None]
    if message is not None and (
        message.chat is None
        or type(message.chat.id) is not int
        or not isinstance(message.chat.type, str)
        or (message.text is not None and not isinstance(message.text, str))
    ):
        return True
    if query is not None and query.from_user is None:
        return True
    return any(user is not None and type(user.id) is not int for user in users)


async def on_message(rt: Runtime, bot: Bot, message: Message, update_id: int) -> None:
    user = message.from_user
    lang = lang_of(user)
    chat_id = message.chat_id
    if message.chat.type != "private":
        if message.text and message.text.startswith("/"):
            await send(rt, bot, chat_id, lang, texts.text(lang, "private_only"), keyboard=False)
        return
    if not allowed(rt.settings, user.id if user else None):
        logger.info("user not on the allowlist", extra={"user_id": user.id if user else None})
        await send(rt, bot, chat_id, lang, texts.text(lang, "not_allowed"), keyboard=False)
        return
    chats.remember_chat(rt.db, chat_id, user.id if user else None, user.language_code if user else None)
    if message.text is None:
        await _not_text(rt, bot, message, lang, update_id)
        return
    text = storable_text(message.text).strip()
    if text.startswith("/"):
        action = COMMANDS.get(text.split()[0][1:].split("@")[0].lower())
        if action is None:
            await reply(rt, bot, chat_id, lang, "unknown_command")
        else:
            await action(rt, bot, message, lang)
        return
    button = texts.button_name(text)
    if button == "approve":  # keyed by its update, as a typed «ок» is: a retry at a refused segment is paid
        await feedback.approve_current(rt, bot, message, lang, update_id)
        return
    if button:
        await BUTTONS[button](rt, bot, message, lang)
        return
    if await feedback.gate_feedback(rt, bot, message, lang, text, update_id):
        return
    await start_topic(rt, bot, message, lang, text, update_id)


async def _not_text(rt: Runtime, bot: Bot, message: Message, lang: str, update_id: int) -> None:
    """A voice note (or an audio file) is a topic or feedback; nothing else without text is."""
    if message.voice or message.audio:
        await voice.voice_topic(rt, bot, message, lang, update_id)
        return
    key = "voice_unsupported" if message.video_note else "unsupported_message"
    await reply(rt, bot, message.chat_id, lang, key)


async def on_callback(rt: Runtime, bot: Bot, query: CallbackQuery, update_id: int | None = None) -> None:
    """Every callback query is answered once, and early: with its outcome when that is known
    within CALLBACK_ANSWER_SECONDS, else with "working on it" while the work goes on (the
    outcome then follows in the chat, unless it is the routine one the chat hears of anyway);
    with 0, "working on it" is answered before any work starts. A query Telegram calls too
    old (BadRequest) is not retried: the tap still takes effect, once, and the update is
    answered 2xx."""
    lang = lang_of(query.from_user)
    budget = rt.settings.telegram.callback_answer_seconds
    if budget <= 0:  # answered before anything else is done
        await _answer(rt, query, texts.text(lang, "callback_working"))
        answer = await _button_answer(rt, bot, query, lang, update_id)
        if answer not in _ROUTINE_ANSWERS and query.message is not None:
            await send(rt, bot, query.message.chat.id, lang, answer)
        return
    work = asyncio.ensure_future(_button_answer(rt, bot, query, lang, update_id))
    done, _ = await asyncio.wait({work}, timeout=budget)
    if done:
        failed = work.exception()
        await _answer(rt, query, texts.text(lang, "error") if failed else work.result())
        if failed:
            raise failed
        return
    await _answer(rt, query, texts.text(lang, "callback_working"))
    answer = await work
    if answer not in _ROUTINE_ANSWERS and query.message is not None:
        await send(rt, bot, query.message.chat.id, lang, answer)


# Outcomes the chat is told of by a message anyway (the approval's reply, the job's end).
_ROUTINE_ANSWERS = {texts.text(lang, key) for lang in ("ru", "en") for key in ("cb_approved", "cb_rejected")}


async def _answer(rt: Runtime, query: CallbackQuery, answer: str) -> None:
    try:
        await call(lambda: query.answer(texts.clip(answer, CALLBACK_ANSWER_LIMIT)), "answerCallbackQuery", rt.settings)
    except BadRequest as exc:  # "query is too old": the tap is acted on all the same
        logger.info("callback query not answered", extra={"error": str(exc)})


async def _button_answer(rt: Runtime, bot: Bot, query: CallbackQuery, lang: str, update_id: int | None = None) -> str:
    parts = callbacks.parse(query.data)
    if parts[0] not in (
        callbacks.SETTING,
        callbacks.HISTORY,
        callbacks.REDO_ALL,
        callbacks.REDO_CANCEL,
        callbacks.REFUSAL_RETRY,
        callbacks.REFUSAL_CANCEL,
    ):
        return await decisions.decide_from_button(rt, bot, query, lang)
    if not allowed(rt.settings, query.from_user.id if query.from_user else None):
        return texts.text(lang, "not_allowed")
    chat_id = query.message.chat.id if query.message else None
    if chat_id is None:
        return texts.text(lang, "unknown_button")
    if parts[0] == callbacks.SETTING and len(parts) == 3:
        return await user_settings.choose(rt, query, lang, parts[1], parts[2])
    if parts[0] in (callbacks.REFUSAL_RETRY, callbacks.REFUSAL_CANCEL):
        return await feedback.refusal_from_button(rt, bot, query, lang, chat_id, parts, update_id)
    if parts[0] in (callbacks.REDO_ALL, callbacks.REDO_CANCEL):
        return await feedback.redo_all_from_button(rt, bot, query, lang, chat_id, parts, update_id)
    if parts[0] == callbacks.HISTORY and len(parts) == 2:
        return await history.resend(rt, bot, chat_id, lang, parts[1], query.id)
    return texts.text(lang, "unknown_button")
