"""Approve and reject: the ✅/❌ keyboard buttons (they answer the chat's open gate) and the
inline buttons under a gate's question (they name their job and stage)."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

from telegram import Bot, CallbackQuery, Message
from telegram.error import BadRequest

from videobot import control
from videobot.data import chats, gates, jobs, segments
from videobot.data.rows import Gate
from videobot.observability import logger
from videobot.pipeline import TERMINAL_STATUSES, GateId, GateStage
from videobot.runtime import Runtime
from videobot.telegram import texts, ui
from videobot.telegram.bot import call
from videobot.telegram.replies import allowed, reply


async def approve_gate(rt: Runtime, bot: Bot, chat_id: int, lang: str, job_id: str, gate: Gate) -> None:
    result = await asyncio.to_thread(control.decide, rt, job_id, gate.id, True)
    await reply(
        rt,
        bot,
        chat_id,
        lang,
        _decision_text(result, gate.stage),
        voiceover=voiceover_state(rt, lang, job_id, gate.stage),
    )


def refused_numbers(waiting: list[Gate]) -> str:
    """The refused segments waiting, as the user counts them: "4, 7"."""
    return texts.numbers(g.id.segment for g in waiting if g.id.segment is not None)


async def reject_current(rt: Runtime, bot: Bot, message: Message, lang: str) -> None:
    job = jobs.active_job_for_chat(rt.db, message.chat_id)
    if job is None:
        await reply(rt, bot, message.chat_id, lang, "nothing_to_reject")
        return
    # The confirmation comes from the lifecycle's cancel (JobEnded), once.
    result = await asyncio.to_thread(control.cancel, rt, job.id)
    if not result.done:
        await reply(rt, bot, message.chat_id, lang, "nothing_to_reject")


def voiceover_state(rt: Runtime, lang: str, job_id: str, stage: str) -> str:
    """Once the clips are approved, where the early voice-over stands (its progress was kept
    out of the image and clip progress)."""
    if stage != GateStage.VIDEOS:
        return ""
    job, counts = jobs.get_job(rt.db, job_id), segments.segment_counts(rt.db, job_id)
    total = counts.get("segments") or 0
    if job.audio_path:
        return "\n" + texts.text(lang, "voiceover_done", total=total)
    return "\n" + texts.text(lang, "voiceover_at", n=counts.get("narrations") or 0, total=total)


def _decision_text(result: control.Decision, stage: str) -> str:
    """The catalogue key that answers an approve/reject decision."""
    if result.done:
        if result.reason == "revised":  # ✅ at a refused segment: tried again
            return "cb_refusal_retry"
        return f"approved_{stage}" if result.reason == "approved" else "cb_rejected"
    if result.reason == "expired":
        return "expired"
    return "nothing_to_approve"


class Tap(NamedTuple):
    """An inline ✅/❌ tap on the question of this chat's latest, unfinished job."""

    approve: bool
    job_id: str
    stage: GateStage
    round: int
    chat_id: int


async def decide_from_button(rt: Runtime, bot: Bot, query: CallbackQuery, lang: str) -> str:
    """The answer to an inline ✅/❌ tap."""
    tap = _tap(rt, query, lang)
    if isinstance(tap, str):
        return tap
    chats.remember_chat(rt.db, tap.chat_id, query.from_user.id, query.from_user.language_code)
    result = await asyncio.to_thread(control.decide, rt, tap.job_id, GateId(tap.stage), tap.approve, tap.round)
    return await _decided(rt, bot, query, lang, tap, result)


def _tap(rt: Runtime, query: CallbackQuery, lang: str) -> Tap | str:
    """The tap, or the answer to one that decides nothing (a button this bot did not make, or
    under another chat's, an older or a finished job)."""

    def t(key: str, **kw) -> str:
        return texts.text(lang, key, **kw)

    if not allowed(rt.settings, query.from_user.id if query.from_user else None):
        return t("not_allowed")
    parsed = ui.parse_callback(query.data)
    chat_id = query.message.chat.id if query.message else None
    if parsed is None or chat_id is None:
        return t("unknown_button")
    approve, job_id, stage, round_ = parsed
    job = jobs.find_job(rt.db, job_id)
    if job is None or job.chat_id != chat_id:
        return t("not_at_this_stage")
    latest = jobs.latest_job_for_chat(rt.db, chat_id)
    if latest and latest.id != job_id:
        return t("older_job", job_id=latest.id)
    if job.status in TERMINAL_STATUSES:
        return t("job_over", status=texts.status_name(lang, job.status))
    return Tap(approve, job_id, stage, round_, chat_id)


async def _decided(rt: Runtime, bot: Bot, query: CallbackQuery, lang: str, tap: Tap, result: control.Decision) -> str:
    """The answer once the gate was asked: decided (its buttons dropped), or why not."""

    def t(key: str, **kw) -> str:
        return texts.text(lang, key, **kw)

    if result.done:
        await drop_buttons(rt, query)
        if tap.approve:
            voiceover = voiceover_state(rt, lang, tap.job_id, tap.stage)
            await reply(rt, bot, tap.chat_id, lang, f"approved_{tap.stage}", voiceover=voiceover)
            return t("cb_approved")
        return t("cb_rejected")
    if result.reason == "expired":
        return t("expired")
    if result.reason == "stale_round":  # a revision since: this question is not the one open now
        await drop_buttons(rt, query)
        return t("stale_round")
    # read again only when the tap changed nothing: to say how the gate had been decided
    gate = gates.get_gate(rt.db, tap.job_id, GateId(tap.stage))
    if gate and gate.decision:
        return t("already_decided", decision=t(f"decision_{gate.decision}"))
    return t("not_at_this_stage")


async def drop_buttons(rt: Runtime, query: CallbackQuery) -> None:
    """Remove the decided question's buttons, so they cannot be tapped again by mistake."""
    try:
        await call(lambda: query.edit_message_reply_markup(reply_markup=None), "editMessageReplyMarkup", rt.settings)
    except BadRequest as exc:  # the message is too old to edit, or already has no buttons
        logger.info("could not remove buttons", extra={"error": str(exc)})
