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
from functools import partial
from pathlib import Path

from telegram import Bot, CallbackQuery, Message

from videobot import control
from videobot.data import gates, jobs, segments
from videobot.data.rows import Gate, Job
from videobot.observability import logger
from videobot.pipeline import IMAGE, GateId, GateStage, media_kind
from videobot.runtime import Runtime
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


async def gate_feedback(
    rt: Runtime, bot: Bot, message: Message, lang: str, text: str, update_id: int | None = None
) -> bool:
    """True when the chat has an open gate: the message was taken as feedback there. (The gate
    is read here to route the words; control.revise reads it again under a row lock, so that it
    is decided once, and once per `update_id`: the Telegram update that carried the words.)"""
    job = jobs.active_job_for_chat(rt.db, message.chat_id)
    gate = gates.open_gate_for_job(rt.db, job.id) if job else None
    if job is not None and gate is None and update_id is not None:
        gate = gates.gate_revised_by(rt.db, job.id, update_id)  # a redelivery of words already taken
    if job is None or gate is None:
        return False
    gate_id = gate.id
    if gate_id.is_refusal:  # a refused segment: the words are its new prompt
        await _new_prompt(rt, bot, message.chat_id, lang, job, gate_id, text, update_id)
    elif gate_id.stage == GateStage.SCRIPT:
        await _script_feedback(rt, bot, message.chat_id, lang, job, gate_id, text, update_id)
    else:
        await _media_feedback(rt, bot, message.chat_id, lang, job, gate, text, update_id)
    return True


async def _new_prompt(
    rt: Runtime, bot: Bot, chat_id: int, lang: str, job: Job, gate: GateId, text: str, update_id: int | None
) -> None:
    words = _words(text)
    if not visible(words):
        await reply(rt, bot, chat_id, lang, "refusal_prompt_hint", n=(gate.segment or 0) + 1)
        return
    result = await asyncio.to_thread(lambda: control.revise(rt, job.id, gate, feedback=words, update_id=update_id))
    await answer_refusal(rt, bot, chat_id, lang, gate, result, "refusal_new_prompt")


async def _script_feedback(
    rt: Runtime, bot: Bot, chat_id: int, lang: str, job: Job, gate: GateId, text: str, update_id: int | None
) -> None:
    keyword = _REWRITE.match(text)
    words = _words(keyword.group(1) if keyword else text)
    if not visible(words):
        await reply(rt, bot, chat_id, lang, "script_feedback_hint")
        return
    result = await asyncio.to_thread(lambda: control.revise(rt, job.id, gate, feedback=words, update_id=update_id))
    await _answer_revision(rt, bot, chat_id, lang, job.id, gate, result, [])


async def _media_feedback(
    rt: Runtime, bot: Bot, chat_id: int, lang: str, job: Job, gate: Gate, text: str, update_id: int | None
) -> None:
    """At the image or clip gate: "покажи 7", "переделай 3 5 светлее", or words for all ten."""
    stage, count = GateStage(gate.stage), rt.settings.pipeline.segment_count
    shown = parse_show(text)
    if shown is not None:
        await _show(rt, bot, chat_id, lang, job, stage, shown)
        return
    parsed = parse_redo(text, count)
    if parsed is not None:
        indexes, words = parsed
        result = await asyncio.to_thread(
            lambda: control.revise(
                rt, job.id, gate.id, feedback=_words(words) or None, segments=indexes, update_id=update_id
            )
        )
        await _answer_revision(rt, bot, chat_id, lang, job.id, gate.id, result, indexes)
        return
    if _REDO.match(text) or not visible(text) or not re.search(r"\w", text):
        # "переделай 11" or "переделай" alone: say how
        await reply(rt, bot, chat_id, lang, "redo_hint", what=texts.text(lang, f"redo_what_{stage}"), count=count)
        return
    await _offer_redo_all(rt, bot, chat_id, lang, job, gate, _words(text))


async def _answer_revision(
    rt: Runtime,
    bot: Bot,
    chat_id: int,
    lang: str,
    job_id: str,
    gate: GateId,
    result: control.Decision,
    indexes: list[int],
) -> None:
    """What the user is told after feedback at a gate: the round it is (from the decision)."""
    if not result.done:
        await _not_revised(rt, bot, chat_id, lang, result)
        return
    spent = texts.text(lang, "spent_so_far", usd=f"{job_cost_usd(rt.db, job_id):.2f}")
    noun = "image" if gate.stage == GateStage.IMAGES else "clip"
    if gate.stage == GateStage.SCRIPT:
        key, what = "revising_script", ""
    elif len(indexes) < rt.settings.pipeline.segment_count:  # "изображение 3", "клипы 2, 5"
        key, what = "revising_some", texts.named(lang, noun, indexes)
    else:  # "все 10 изображений"
        key, what = "revising_all", texts.counted(lang, noun, len(indexes))
    await reply(rt, bot, chat_id, lang, key, what=what, n=result.round, limit=result.limit, spent=spent)


async def answer_refusal(
    rt: Runtime, bot: Bot, chat_id: int, lang: str, gate: GateId, result: control.Decision, key: str
) -> None:
    """What the user is told after a new prompt or a retry at a refused segment."""
    if not result.done:
        await _not_revised(rt, bot, chat_id, lang, result)
        return
    await reply(rt, bot, chat_id, lang, key, n=(gate.segment or 0) + 1, round=result.round, limit=result.limit)


async def _not_revised(rt: Runtime, bot: Bot, chat_id: int, lang: str, result: control.Decision) -> None:
    if result.reason == "limit":
        await reply(rt, bot, chat_id, lang, "revise_limit", limit=result.limit)
    elif result.reason == "expired":
        await reply(rt, bot, chat_id, lang, "expired")
    else:
        await reply(rt, bot, chat_id, lang, "nothing_to_approve")


async def refusal_from_button(
    rt: Runtime, bot: Bot, query: CallbackQuery, lang: str, chat_id: int, parts: list[str], update_id: int | None = None
) -> str:
    """[🔁 Повторить] / [❌ Отменить задачу] under a refused segment."""
    job = jobs.find_job(rt.db, parts[1]) if len(parts) >= 2 else None
    if job is None or job.chat_id != chat_id:
        return texts.text(lang, "not_at_this_stage")
    if parts[0] == "sx":
        result = await asyncio.to_thread(control.cancel, rt, job.id)
        if result.done:
            await drop_buttons(rt, query)
            return texts.text(lang, "cb_rejected")
        return texts.text(lang, "nothing_to_reject")
    gate = GateId.find(parts[2]) if len(parts) == 4 else None
    if gate is None or not gate.is_refusal or not parts[3].isdigit():
        return texts.text(lang, "unknown_button")
    result = await asyncio.to_thread(
        lambda: control.revise(rt, job.id, gate, round_=int(parts[3]), update_id=update_id)
    )
    if result.reason == "stale_round":
        await drop_buttons(rt, query)
        return texts.text(lang, "stale_round")
    if result.done:
        await drop_buttons(rt, query)
    await answer_refusal(rt, bot, chat_id, lang, gate, result, "refusal_retrying")
    return texts.text(lang, "cb_refusal_retry") if result.done else texts.text(lang, "not_at_this_stage")


async def _offer_redo_all(rt: Runtime, bot: Bot, chat_id: int, lang: str, job: Job, gate: Gate, words: str) -> None:
    settings = rt.settings
    if gate.revisions >= settings.pipeline.max_gate_revisions:
        await reply(rt, bot, chat_id, lang, "revise_limit", limit=settings.pipeline.max_gate_revisions)
        return
    round_ = gates.offer_redo_all(rt.db, job.id, gate.id, words)
    if round_ is None:
        await reply(rt, bot, chat_id, lang, "nothing_to_approve")
        return
    count, stage = settings.pipeline.segment_count, GateStage(gate.stage)
    usd = await asyncio.to_thread(redo_usd, rt, stage, count, job.aspect_ratio, job.video_model)
    what = texts.counted(lang, media_kind(stage).noun, count)
    offer = texts.text(lang, "redo_all_offer", what=what, words=texts.clip(words, 300), usd=f"{usd:.2f}")
    keyboard = ui.redo_all_keyboard(lang, job.id, stage, round_, usd)
    await call(
        lambda: bot.send_message(chat_id, texts.clip(offer, texts.TELEGRAM_TEXT_LIMIT), reply_markup=keyboard),
        "sendMessage",
        settings,
    )


async def redo_all_from_button(
    rt: Runtime, bot: Bot, query: CallbackQuery, lang: str, chat_id: int, parts: list[str], update_id: int | None = None
) -> str:
    """The answer to [🔁 Переделать все] or [Отмена] under an offer."""

    def t(key: str, **kw) -> str:
        return texts.text(lang, key, **kw)

    if len(parts) != 4 or parts[2] not in ui.CODE_STAGES or not parts[3].isdigit():
        return t("unknown_button")
    job_id, gate, round_ = parts[1], GateId(ui.CODE_STAGES[parts[2]]), int(parts[3])
    job = jobs.find_job(rt.db, job_id)
    if job is None or job.chat_id != chat_id:
        return t("not_at_this_stage")
    await drop_buttons(rt, query)
    if parts[0] != "ra":
        gates.withdraw_offer(rt.db, job_id, gate, round_)
        return t("redo_all_declined")
    words = gates.offered_feedback(rt.db, job_id, gate, round_)
    if words is None:
        return t("offer_stale")
    everyone = list(range(rt.settings.pipeline.segment_count))
    result = await asyncio.to_thread(
        lambda: control.revise(rt, job_id, gate, feedback=words, segments=everyone, round_=round_, update_id=update_id)
    )
    if result.reason == "stale_round":
        return t("offer_stale")
    await _answer_revision(rt, bot, chat_id, lang, job_id, gate, result, everyone)
    return t("cb_redo_all") if result.done else t("offer_stale")


async def _show(rt: Runtime, bot: Bot, chat_id: int, lang: str, job: Job, stage: GateStage, numbers: list[int]) -> None:
    """Send the asked-for segments' images or clips, each captioned with its number."""
    count = rt.settings.pipeline.segment_count
    if not numbers or numbers[0] < 1 or numbers[-1] > count:
        await reply(rt, bot, chat_id, lang, "show_hint", count=count)
        return
    kind = media_kind(stage)
    for n in numbers[:10]:
        seg = segments.get_segment(rt.db, job.id, n - 1)
        path = seg.media(kind).path if seg else None
        if not path:
            await reply(rt, bot, chat_id, lang, "show_missing", n=n)
            continue
        data = await asyncio.to_thread(rt.storage.get_bytes, path)
        caption = texts.segment_caption(lang, stage, [n - 1], count)
        name = Path(path).name
        logger.info("segment shown", extra={"job_id": job.id, "stage": stage, "segment": n})
        if kind is IMAGE:
            await call(partial(bot.send_photo, chat_id, data, caption=caption, filename=name), "sendPhoto", rt.settings)
        else:
            send = partial(bot.send_video, chat_id, data, caption=caption, filename=name, supports_streaming=True)
            await call(send, "sendVideo", rt.settings)
