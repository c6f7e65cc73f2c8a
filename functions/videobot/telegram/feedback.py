"""Feedback at an open gate: at the script gate, a reply to one of the bot's messages (or
"перепиши: …") says what to change; at the image and clip gates, "переделай 3 5" names the
segments to make again. The state machine loops through ReviseScript / RedoImages / RedoClips."""

from __future__ import annotations

import asyncio
import re

from telegram import Bot, Message

from videobot import control, runtime
from videobot.data import gates, jobs
from videobot.telegram import texts
from videobot.telegram.cost import job_cost_usd
from videobot.telegram.replies import reply

_REDO = re.compile(r"^\s*(?:переделай(?:те)?|переделать|redo)\b(.*)$", re.IGNORECASE | re.DOTALL)
_REWRITE = re.compile(r"^\s*(?:перепиши(?:те)?|измени(?:те)?|rewrite|change)\b[\s:,.-]*(\S.*)$",
                      re.IGNORECASE | re.DOTALL)
_NUMBERS = re.compile(r"^\s*((?:\d+\s*(?:,|и|and)?\s*)+)(.*)$", re.IGNORECASE | re.DOTALL)


def parse_redo(text: str, count: int) -> tuple[list[int], str] | None:
    """"переделай 3", "redo 3 5 brighter", "переделай 2, 4 и 7: светлее" -> (0-based segment
    indexes, the words after the numbers); None when it names no valid segment."""
    match = _REDO.match(text)
    numbers = _NUMBERS.match(match.group(1)) if match else None
    if numbers is None:
        return None
    chosen = sorted({int(n) for n in re.findall(r"\d+", numbers.group(1))})
    if not chosen or chosen[0] < 1 or chosen[-1] > count:
        return None
    return [n - 1 for n in chosen], numbers.group(2).strip(" \t\n:;,.-—")


async def gate_feedback(bot: Bot, message: Message, lang: str, text: str) -> bool:
    """True when the message was taken as feedback at an open gate. A plain new text at the
    script gate is still a (refused) second topic."""
    job = jobs.active_job_for_chat(message.chat_id)
    gate = gates.open_gate_for_job(job.id) if job else None
    if gate is None:
        return False
    settings = runtime.current().settings
    stage, chat_id = gate.stage, message.chat_id
    if stage == "script":
        keyword = _REWRITE.match(text)
        if not keyword and message.reply_to_message is None:
            return False
        words = keyword.group(1).strip() if keyword else text
        result = await asyncio.to_thread(lambda: control.revise(job.id, stage, feedback=words))
        numbers = ""
    else:
        parsed = parse_redo(text, settings.segment_count)
        if parsed is None:
            what = texts.text(lang, "stage_images" if stage == "images" else "stage_videos")
            await reply(bot, chat_id, lang, "redo_hint", what=what, count=settings.segment_count)
            return True
        indexes, words = parsed
        result = await asyncio.to_thread(
            lambda: control.revise(job.id, stage, feedback=words or None, segments=indexes))
        numbers = ", ".join(str(i + 1) for i in indexes)
    if result.done:
        rounds = gates.get_gate(job.id, stage).revisions
        await reply(bot, chat_id, lang, f"revising_{stage}", numbers=numbers, n=rounds,
                    limit=settings.max_gate_revisions, usd=f"{job_cost_usd(job.id):.2f}")
    elif result.reason == "limit":
        await reply(bot, chat_id, lang, "revise_limit", limit=settings.max_gate_revisions)
    elif result.reason == "expired":
        await reply(bot, chat_id, lang, "expired")
    else:
        await reply(bot, chat_id, lang, "nothing_to_approve")
    return True
