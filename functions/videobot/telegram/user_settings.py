"""/settings: each user's aspect ratio, narration voice, narration language, subtitles and,
with Runway making the clips, the video model (only the operator's RUNWAY_VIDEO_MODELS, each
with what a 50 s video costs on it), as buttons; the current choice of each row is marked ✓."""

from __future__ import annotations

from typing import Any

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from videobot import preferences
from videobot.observability import logger
from videobot.runtime import Runtime
from videobot.telegram import callbacks, texts
from videobot.telegram.bot import call
from videobot.telegram.estimates import estimated_job_usd
from videobot.telegram.replies import sender_id

SETTING_CODES = {"ar": "aspect_ratio", "v": "voice", "l": "narration_language", "s": "subtitles", "vm": "video_model"}
FIELD_CODES = {v: k for k, v in SETTING_CODES.items()}


def _value_name(lang: str, field: str, value) -> str:
    if field == "subtitles":
        return texts.text(lang, "settings_on" if value else "settings_off")
    if field == "narration_language":
        return texts.text(lang, f"settings_lang_{value}")
    return str(value)


def settings_view(rt: Runtime, lang: str, user_id: int) -> tuple[str, InlineKeyboardMarkup]:
    chosen = preferences.get(rt.db, user_id)
    voices = rt.speech_voices()
    current: dict[str, Any] = {
        "aspect_ratio": chosen.aspect_ratio or rt.settings.pipeline.aspect_ratio,
        "voice": chosen.voice if chosen.voice in voices else voices[0],
        "narration_language": chosen.narration_language,
        "subtitles": rt.settings.assembly.subtitles if chosen.subtitles is None else chosen.subtitles,
        "video_model": preferences.video_model_for(rt.db, user_id, rt.settings),
    }
    options = {
        "aspect_ratio": preferences.ASPECT_RATIOS,
        "voice": voices,
        "narration_language": preferences.LANGUAGES,
        "subtitles": (True, False),
    }
    labels: dict[Any, str] = {}
    if offers_video_models(rt.settings):
        # what a whole 50 s video costs on each model, at the user's aspect ratio
        prices = {m: estimated_job_usd(rt, current["aspect_ratio"], m) for m in rt.settings.runway.video_model_choices}
        options["video_model"] = tuple(prices)
        labels = {m: f"{m} · ${usd:.2f}" for m, usd in prices.items()}
    rows = []
    for field, values in options.items():
        per_row = 2 if field == "video_model" else 4
        buttons = [
            InlineKeyboardButton(
                ("✓ " if v == current[field] else "") + labels.get(v, _value_name(lang, field, v)),
                callback_data=callbacks.make(callbacks.SETTING, FIELD_CODES[field], _encode(v)),
            )
            for v in values
        ]
        rows += [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    video = video_row = ""
    if "video_model" in options:
        video = texts.text(
            lang,
            "settings_video",
            model=current["video_model"],
            usd=f"{estimated_job_usd(rt, current['aspect_ratio'], current['video_model']):.2f}",
        )
        video_row = texts.text(lang, "settings_video_row")
    message = texts.text(
        lang,
        "settings",
        ratio=current["aspect_ratio"],
        voice=current["voice"],
        language=_value_name(lang, "narration_language", current["narration_language"]),
        subtitles=_value_name(lang, "subtitles", current["subtitles"]),
        video=video,
        video_row=video_row,
    )
    return message, InlineKeyboardMarkup(rows)


def offers_video_models(settings) -> bool:
    """The model row shows when Runway makes the clips: offline, every model is the same slide."""
    return settings.providers.video == "runway"


def _encode(value) -> str:
    return ("1" if value else "0") if isinstance(value, bool) else str(value)


def _decode(field: str, raw: str):
    return raw == "1" if field == "subtitles" else raw


async def settings_command(rt: Runtime, bot: Bot, message: Message, lang: str) -> None:
    text, keyboard = settings_view(rt, lang, sender_id(message))
    await call(lambda: bot.send_message(message.chat_id, text, reply_markup=keyboard), "sendMessage", rt.settings)


async def choose(rt: Runtime, query: CallbackQuery, lang: str, code: str, raw: str) -> str:
    """A settings button: store the choice, redraw the message, answer the tap."""
    field = SETTING_CODES.get(code)
    if field is None:
        return texts.text(lang, "unknown_button")
    try:
        preferences.choose(
            rt.db,
            query.from_user.id,
            field,
            _decode(field, raw),
            voices=rt.speech_voices(),
            video_models=rt.settings.runway.video_model_choices,
        )
    except ValueError:
        return texts.text(lang, "settings_unavailable")
    text, keyboard = settings_view(rt, lang, query.from_user.id)
    try:
        await call(lambda: query.edit_message_text(text, reply_markup=keyboard), "editMessageText", rt.settings)
    except BadRequest as exc:  # the same text (a double tap) or a message too old to edit
        logger.info("settings message not edited", extra={"error": str(exc)})
    return texts.text(lang, "settings_saved", value=_value_name(lang, field, _decode(field, raw)))
