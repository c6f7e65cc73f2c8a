"""What every Telegram feature shares: who may use the bot, the chat's language, plain-text
replies with the persistent keyboard, and the text a topic may hold."""

from __future__ import annotations

import unicodedata

from telegram import Bot, Message, User

from videobot.config import Settings
from videobot.runtime import Runtime
from videobot.telegram import texts, ui
from videobot.telegram.bot import call


def lang_of(user: User | None) -> str:
    return texts.language_of(user.language_code if user else None)


def sender_id(message: Message) -> int:
    """Who wrote a private chat's message (Telegram always says there; a channel's post has no sender)."""
    if message.from_user is None:
        raise ValueError("a message without a sender")
    return message.from_user.id


def allowed(settings: Settings, user_id: int | None) -> bool:
    return settings.telegram.allows(user_id)


async def send(rt: Runtime, bot: Bot, chat_id: int, lang: str, message: str, keyboard: bool = True) -> None:
    """A plain-text message (no parse mode: user text can never break it), with the seed's
    persistent keyboard in the chat's language unless the chat must not get it."""
    await call(
        lambda: bot.send_message(
            chat_id,
            texts.clip(message, texts.TELEGRAM_TEXT_LIMIT),
            reply_markup=ui.main_keyboard(lang) if keyboard else None,
        ),
        "sendMessage",
        rt.settings,
    )


async def reply(rt: Runtime, bot: Bot, chat_id: int, lang: str, key: str, **values) -> None:
    await send(rt, bot, chat_id, lang, texts.text(lang, key, **values))


def visible(text: str) -> bool:
    """Something a person can see: not empty, not only spaces, zero-width or direction marks."""
    return any(unicodedata.category(ch)[0] not in "CZ" for ch in text)


def storable_text(text: str) -> str:
    """The text without what PostgreSQL cannot store and UTF-8 cannot encode (NUL, lone
    surrogates from a \\uD800 JSON escape): such a topic would otherwise fail unanswered."""
    return "".join(ch for ch in text if ch != "\x00" and not "\ud800" <= ch <= "\udfff")
