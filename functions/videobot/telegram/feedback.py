"""Feedback at an open gate. A person at an open gate who writes (or says) words means
feedback, never a second topic:

- at the script gate, any text rewrites the script with those words (a reply to the bot, or
  "перепиши: …", works the same way);
- at the image and clip gates, "переделай 3 5 светлее" makes those segments again; "покажи 7"
  sends segment 7's image or clip; words without numbers ("сделай ярче") are offered as one
  tap to redo all ten with them, with that redo's cost (the words wait in the gate row).

The state machine loops through ReviseScript / RedoImages / RedoClips."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from telegram import Bot, CallbackQuery, Message

from videobot import control, runtime
from videobot.data import gates, jobs, segments
from videobot.data.rows import Gate, Job
from videobot.observability import logger
from videobot.telegram import texts, ui
from videobot.telegram.bot import call
from videobot.telegram.cost import job_cost_usd
from videobot.telegram.decisions import drop_buttons
from videobot.telegram.estimates import redo_usd
from videobot.telegram.replies import reply, visible

_REDO = re.compile(r"^\s*(?:переделай(?:те)?|переделать|redo)\b(.*)$", re.IGNORECASE | re.DOTALL)
_REWRITE = re.compile(
    r"^\s*(?:перепиши(?:те)?|измени(?:те)?|rewrite|change)\b[\s:,.-]*(\S.*)$", re.IGNORECASE | re.DOTALL
)
_NUMBERS = re.compile(r"^\s*((?:\d+\s*(?:,|и|and)?\s*)+)(.*)$", re.IGNORECASE | re.DOTALL)
_SHOW = re.compile(
    r"^\s*(?:покажи(?:те)?|показать|show)\s*(?:клип|изображение|картинку|clip|image)?\s*"
    r"((?:\d+\s*(?:,|и|and)?\s*)+)$",
    re.IGNORECASE,
)
MAX_FEEDBACK_CHARS = 500


def parse_redo(text: str, count: int) -> tuple[list[int], str] | None:
    """ "переделай 3", "redo 3 5 brighter", "переделай 2, 4 и 7: светлее" -> (0-based segment
    indexes, the words after the numbers); None when it names no valid segment."""
    match = _REDO.match(text)
    numbers = _NUMBERS.match(match.group(1)) if match else None
    if numbers is None:
        return None
    chosen = sorted({int(n) for n in re.findall(r"\d+", numbers.group(1))})
    if not chosen or chosen[0] < 1 or chosen[-1] > count:
        return None
    return [n - 1 for n in chosen], numbers.group(2).strip(" \t\n:;,.-—")


def parse_show(text: str) -> list[int] | None:
    """ "покажи 7", "show 2 and 5" -> the 1-based numbers asked for; None when it is not that."""
    match = _SHOW.match(text)
    return sorted({int(n) for n in re.findall(r"\d+", match.group(1))}) if match else None


def _words(text: str) -> str:
    return texts.clip(text.strip(), MAX_FEEDBACK_CHARS)


async def gate_feedback(bot: Bot, message: Message, lang: str, text: str) -> bool:
    """True when the chat has an open gate: the message was taken as feedback there."""
    job = jobs.active_job_for_chat(message.chat_id)
    gate = gates.open_gate_for_job(job.id) if job else None
    if gate is None:
        return False
    settings = runtime.current().settings
    stage, chat_id, count = gate.stage, message.chat_id, settings.segment_count
    if refused := jobs.parse_refusal_stage(stage):  # a refused segment: the words are its new prompt
        words = _words(text)
        if not visible(words):
            await reply(bot, chat_id, lang, "refusal_prompt_hint", n=refused[1] + 1)
            return True
        result = await asyncio.to_thread(lambda: control.revise(job.id, stage, feedback=words))
        await answer_refusal(bot, chat_id, lang, job.id, stage, result, "refusal_new_prompt")
        return True
    if stage == "script":
        keyword = _REWRITE.match(text)
        words = _words(keyword.group(1) if keyword else text)
        if not visible(words):
            await reply(bot, chat_id, lang, "script_feedback_hint")
            return True
        result = await asyncio.to_thread(lambda: control.revise(job.id, stage, feedback=words))
        await _answer_revision(bot, chat_id, lang, job.id, stage, result, [])
        return True
    shown = parse_show(text)
    if shown is not None:
        await _show(bot, chat_id, lang, job, stage, shown)
        return True
    parsed = parse_redo(text, count)
    if parsed is not None:
        indexes, words = parsed
        result = await asyncio.to_thread(
            lambda: control.revise(job.id, stage, feedback=_words(words) or None, segments=indexes)
        )
        await _answer_revision(bot, chat_id, lang, job.id, stage, result, indexes)
        return True
    if _REDO.match(text) or not visible(text) or not re.search(r"\w", text):
        # "переделай 11" or "переделай" alone: say how
        await reply(bot, chat_id, lang, "redo_hint", what=texts.text(lang, f"redo_what_{stage}"), count=count)
        return True
    await _offer_redo_all(bot, chat_id, lang, job, gate, _words(text))
    return True


async def _answer_revision(
    bot: Bot, chat_id: int, lang: str, job_id: str, stage: str, result: control.Decision, indexes: list[int]
) -> None:
    settings = runtime.current().settings
    if result.done:
        rounds = gates.get_gate(job_id, stage).revisions
        spent = texts.text(lang, "spent_so_far", usd=f"{job_cost_usd(job_id):.2f}")
        if stage == "script":
            key, what = "revising_script", ""
        elif len(indexes) < settings.segment_count:  # "изображение 3", "клипы 2, 5"
            key, what = "revising_some", texts.named(lang, "image" if stage == "images" else "clip", indexes)
        else:  # "все 10 изображений"
            key, what = "revising_all", texts.counted(lang, "image" if stage == "images" else "clip", len(indexes))
        await reply(bot, chat_id, lang, key, what=what, n=rounds, limit=settings.max_gate_revisions, spent=spent)
    elif result.reason == "limit":
        await reply(bot, chat_id, lang, "revise_limit", limit=settings.max_gate_revisions)
    elif result.reason == "expired":
        await reply(bot, chat_id, lang, "expired")
    else:
        await reply(bot, chat_id, lang, "nothing_to_approve")


async def answer_refusal(
    bot: Bot, chat_id: int, lang: str, job_id: str, stage: str, result: control.Decision, key: str
) -> None:
    """What the user is told after a new prompt or a retry at a refused segment."""
    settings = runtime.current().settings
    if not result.done:
        await _answer_revision(bot, chat_id, lang, job_id, stage, result, [])
        return
    _, index = jobs.parse_refusal_stage(stage)
    await reply(
        bot,
        chat_id,
        lang,
        key,
        n=index + 1,
        round=gates.get_gate(job_id, stage).revisions,
        limit=settings.max_gate_revisions,
    )


async def refusal_from_button(bot: Bot, query: CallbackQuery, lang: str, chat_id: int, parts: list[str]) -> str:
    """[🔁 Повторить] / [❌ Отменить задачу] under a refused segment."""
    job = jobs.find_job(parts[1]) if len(parts) >= 2 else None
    if job is None or job.chat_id != chat_id:
        return texts.text(lang, "not_at_this_stage")
    if parts[0] == "sx":
        result = await asyncio.to_thread(control.cancel, job.id)
        if result.done:
            await drop_buttons(query)
            return texts.text(lang, "cb_rejected")
        return texts.text(lang, "nothing_to_reject")
    if len(parts) != 4 or not jobs.parse_refusal_stage(parts[2]) or not parts[3].isdigit():
        return texts.text(lang, "unknown_button")
    stage = parts[2]
    result = await asyncio.to_thread(lambda: control.revise(job.id, stage, round_=int(parts[3])))
    if result.reason == "stale_round":
        await drop_buttons(query)
        return texts.text(lang, "stale_round")
    if result.done:
        await drop_buttons(query)
    await answer_refusal(bot, chat_id, lang, job.id, stage, result, "refusal_retrying")
    return texts.text(lang, "cb_refusal_retry") if result.done else texts.text(lang, "not_at_this_stage")


async def _offer_redo_all(bot: Bot, chat_id: int, lang: str, job: Job, gate: Gate, words: str) -> None:
    settings = runtime.current().settings
    if gate.revisions >= settings.max_gate_revisions:
        await reply(bot, chat_id, lang, "revise_limit", limit=settings.max_gate_revisions)
        return
    round_ = gates.offer_redo_all(job.id, gate.stage, words)
    if round_ is None:
        await reply(bot, chat_id, lang, "nothing_to_approve")
        return
    count = settings.segment_count
    usd = await asyncio.to_thread(redo_usd, gate.stage, count, job.aspect_ratio, job.video_model)
    what = texts.counted(lang, "image" if gate.stage == "images" else "clip", count)
    offer = texts.text(lang, "redo_all_offer", what=what, words=texts.clip(words, 300), usd=f"{usd:.2f}")
    keyboard = ui.redo_all_keyboard(lang, job.id, gate.stage, round_, usd)
    await call(
        lambda: bot.send_message(chat_id, texts.clip(offer, texts.TELEGRAM_TEXT_LIMIT), reply_markup=keyboard),
        "sendMessage",
    )


async def redo_all_from_button(bot: Bot, query: CallbackQuery, lang: str, chat_id: int, parts: list[str]) -> str:
    """The answer to [🔁 Переделать все] or [Отмена] under an offer."""

    def t(key: str, **kw) -> str:
        return texts.text(lang, key, **kw)

    if len(parts) != 4 or parts[2] not in ui.CODE_STAGES or not parts[3].isdigit():
        return t("unknown_button")
    job_id, stage, round_ = parts[1], ui.CODE_STAGES[parts[2]], int(parts[3])
    job = jobs.find_job(job_id)
    if job is None or job.chat_id != chat_id:
        return t("not_at_this_stage")
    await drop_buttons(query)
    if parts[0] != "ra":
        gates.withdraw_offer(job_id, stage, round_)
        return t("redo_all_declined")
    words = gates.offered_feedback(job_id, stage, round_)
    if words is None:
        return t("offer_stale")
    count = runtime.current().settings.segment_count
    result = await asyncio.to_thread(
        lambda: control.revise(job_id, stage, feedback=words, segments=list(range(count)), round_=round_)
    )
    if result.reason == "stale_round":
        return t("offer_stale")
    await _answer_revision(bot, chat_id, lang, job_id, stage, result, list(range(count)))
    return t("cb_redo_all") if result.done else t("offer_stale")


async def _show(bot: Bot, chat_id: int, lang: str, job: Job, stage: str, numbers: list[int]) -> None:
    """Send the asked-for segments' images or clips, each captioned with its number."""
    count = runtime.current().settings.segment_count
    if not numbers or numbers[0] < 1 or numbers[-1] > count:
        await reply(bot, chat_id, lang, "show_hint", count=count)
        return
    storage = runtime.current().storage
    column = "image_path" if stage == "images" else "video_path"
    for n in numbers[:10]:
        seg = segments.get_segment(job.id, n - 1)
        path = getattr(seg, column) if seg else None
        if not path:
            await reply(bot, chat_id, lang, "show_missing", n=n)
            continue
        data = await asyncio.to_thread(storage.get_bytes, path)
        caption = texts.segment_caption(lang, stage, [n - 1], count)
        name = Path(path).name
        logger.info("segment shown", extra={"job_id": job.id, "stage": stage, "segment": n})
        if stage == "images":
            await call(
                lambda d=data, nm=name, c=caption: bot.send_photo(chat_id, d, caption=c, filename=nm), "sendPhoto"
            )
        else:
            await call(
                lambda d=data, nm=name, c=caption: bot.send_video(
                    chat_id, d, caption=c, filename=nm, supports_streaming=True
                ),
                "sendVideo",
            )
