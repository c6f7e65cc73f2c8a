"""/settings: each user's aspect ratio, narration voice, narration language and subtitles,
as buttons; the current choice of each row is marked ✓."""

from __future__ import annotations

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from videobot import preferences, runtime
from videobot.observability import logger
from videobot.telegram import callbacks, texts
from videobot.telegram.bot import call

SETTING_CODES = {"ar": "aspect_ratio", "v": "voice", "l": "narration_language", "s": "subtitles"}
FIELD_CODES = {v: k for k, v in SETTING_CODES.items()}


def _value_name(lang: str, field: str, value) -> str:
    if field == "subtitles":
        return texts.text(lang, "settings_on" if value else "settings_off")
    if field == "narration_language":
        return texts.text(lang, f"settings_lang_{value}")
    return str(value)


def settings_view(lang: str, user_id: int) -> tuple[str, InlineKeyboardMarkup]:
    rt = runtime.current()
    chosen = preferences.get(user_id)
    voices = rt.speech_voices()
    current = {"aspect_ratio": chosen.aspect_ratio or rt.settings.aspect_ratio,
               "voice": chosen.voice if chosen.voice in voices else voices[0],
               "narration_language": chosen.narration_language,
               "subtitles": rt.settings.subtitles if chosen.subtitles is None else chosen.subtitles}
    options = {"aspect_ratio": preferences.ASPECT_RATIOS, "voice": voices,
               "narration_language": preferences.LANGUAGES, "subtitles": (True, False)}
    rows = []
    for field, values in options.items():
        buttons = [InlineKeyboardButton(("✓ " if v == current[field] else "") + _value_name(lang, field, v),
                                        callback_data=callbacks.make(callbacks.SETTING, FIELD_CODES[field], _encode(v)))
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


async def choose(query: CallbackQuery, lang: str, code: str, raw: str) -> str:
    """A settings button: store the choice, redraw the message, answer the tap."""
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
