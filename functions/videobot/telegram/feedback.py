"""Feedback at an open gate. A person at an open gate who writes (or says) words means an
answer there, never a second topic:

- a plain yes ("ок", "да", "👍", telegram/meaning.py) is ✅; a yes with more words ("да, но
  короче") is asked about with two buttons, ✅ and the revision with its price;
- at the script gate, any other text rewrites the script with those words (a reply to the bot,
  or "перепиши: …", works the same way);
- at the image and clip gates, "переделай 3 5 светлее" makes those segments again, "переделай
  все ярче" all ten; "покажи 7" sends segment 7's image or clip; words without numbers ("сделай
  ярче") are offered as one tap to redo all ten with them (the words wait in the gate row);
- every redo's own price is said before anything is paid: at or above REDO_CONFIRM_USD as a
  question with one tap to confirm, below it in the answer that starts it;
- while refused segments wait, a text is the new prompt of the one the user replied to, or
  named ("7: …"), or the only one; with several and no clue, which is asked.

The state machine loops through ReviseScript / RedoImages / RedoClips."""

from __future__ import annotations

import asyncio
import re
from functools import partial
from pathlib import Path
from typing import NamedTuple

from telegram import Bot, CallbackQuery, Message

from videobot import control
from videobot.data import gates, jobs, ledger, segments
from videobot.data.rows import Gate, Job
from videobot.errors import BudgetExceeded, DailyCapReached
from videobot.observability import logger
from videobot.pipeline import IMAGE, GateId, GateStage, MediaNoun, media_kind
from videobot.runtime import Runtime
from videobot.telegram import callbacks, decisions, texts, ui
from videobot.telegram.bot import call
from videobot.telegram.cost import job_cost_usd
from videobot.telegram.decisions import drop_buttons
from videobot.telegram.estimates import prompt_revision_usd, redo_generations, redo_usd, script_usd
from videobot.telegram.meaning import Meaning, meaning, named_segment, redo_all_words
from videobot.telegram.replies import reply, visible

_NOUN = r"(клип\w*|изображени\w*|картинк\w*|clips?|images?)"
# "переделай 3", "переделай клип 3", "сделай клип 3 медленнее", "make clip 3 slower", "сделай клипы
# медленнее" ("сделай" and "make" only with the noun: "сделай ярче" is a wish for all ten)
_REDO = re.compile(
    rf"^\s*(?:(?:переделай(?:те)?|переделать|redo)\b(?:\s*{_NOUN}\b)?|(?:сделай(?:те)?|make)\s+{_NOUN}\b)(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_NOUN_KINDS: tuple[tuple[str, MediaNoun], ...] = (("клип", "clip"), ("clip", "clip"), ("изображ", "image"))
_REWRITE = re.compile(
    r"^\s*(?:перепиши(?:те)?|измени(?:те)?|rewrite|change)\b[\s:,.-]*(\S.*)$", re.IGNORECASE | re.DOTALL
)
# one number or a range: "3", "3-5", "3–5", "с 3 по 5", "3 to 5", "from 3 to 5"
_RANGE = r"(\d+)(?:\s*(?:-|–|—|\bпо\b|\bдо\b|\bto\b)\s*(\d+))?"
_NUMBERS = re.compile(
    rf"^\s*((?:(?:(?:\bс|\bfrom)\s+)?{_RANGE}\s*(?:,|\bи\b|\band\b)?\s*)+)(?P<words>.*)$", re.IGNORECASE | re.DOTALL
)
_SHOW = re.compile(
    r"^\s*(?:покажи(?:те)?|показать|show)\s*(?:клип|изображение|картинку|clip|image)?\s*"
    r"((?:\d+\s*(?:,|и|and)?\s*)+)$",
    re.IGNORECASE,
)
MAX_FEEDBACK_CHARS = 500
_PUNCTUATION = " \t\n:;,.-—"


class Redo(NamedTuple):
    """What "переделай …" asked for: the segments (0-based; None: all of `kind`, "сделай клипы
    медленнее"), the words after them, and the kind its noun named (None without a noun)."""

    segments: list[int] | None
    words: str
    kind: MediaNoun | None = None


def parse_redo(text: str, count: int) -> Redo | None:
    """ "переделай 3", "redo 3 5 brighter", "переделай 2, 4 и 7: светлее", "make clips 3-5 slower",
    "сделай клипы медленнее" -> Redo; None when it is not a redo, or names no valid segment."""
    match = _REDO.match(text)
    if match is None:
        return None
    kind, rest = _noun_kind(match), match.group(3)
    numbers = _NUMBERS.match(rest)
    if numbers is None:  # a noun with no numbers means all of that kind
        if kind is None or re.match(r"\s*\d", rest):
            return None
        return Redo(None, re.sub(r"^\s*(?:все|всё|all)\b", "", rest, flags=re.IGNORECASE).strip(_PUNCTUATION), kind)
    chosen: set[int] = set()
    for first, last in re.findall(_RANGE, numbers.group(1), re.IGNORECASE):
        if last and not int(first) <= int(last) <= count:
            return None
        chosen.update(range(int(first), int(last or first) + 1))
    ordered = sorted(chosen)
    if not ordered or ordered[0] < 1 or ordered[-1] > count:
        return None
    return Redo([n - 1 for n in ordered], numbers.group("words").strip(_PUNCTUATION), kind)


def redo_noun(text: str) -> MediaNoun | None:
    """The kind a redo's noun names ("сделай клип 11 медленнее": "clip"), whatever its numbers
    (a number out of 1..10 at another stage's gate is still about that stage); None without one."""
    match = _REDO.match(text)
    return _noun_kind(match) if match else None


def _noun_kind(match: re.Match) -> MediaNoun | None:
    noun = (match.group(1) or match.group(2) or "").lower()
    return next((k for stem, k in _NOUN_KINDS if noun.startswith(stem)), "image" if noun else None)


def parse_show(text: str) -> list[int] | None:
    """ "покажи 7", "show 2 and 5" -> the 1-based numbers asked for; None when it is not that."""
    match = _SHOW.match(text)
    return sorted({int(n) for n in re.findall(r"\d+", match.group(1))}) if match else None


def _words(text: str) -> str:
    return texts.clip(text.strip(), MAX_FEEDBACK_CHARS)


async def gate_feedback(
    rt: Runtime, bot: Bot, message: Message, lang: str, text: str, update_id: int | None = None
) -> bool:
    """True when the chat has an open gate: the message was taken as an answer there. (The gate
    is read here to route the words; control.revise reads it again under a row lock, so that it
    is decided once, and once per `update_id`: the Telegram update that carried the words.)"""
    job = jobs.active_job_for_chat(rt.db, message.chat_id)
    waiting = gates.open_gates_for_job(rt.db, job.id) if job else []
    if job is not None and not waiting and update_id is not None:
        taken = gates.gate_revised_by(rt.db, job.id, update_id)  # a redelivery of words already taken
        waiting = [taken] if taken is not None else []
    if job is None or not waiting:
        return False
    said, gate, count = meaning(text), waiting[0], rt.settings.pipeline.segment_count
    refused = [g for g in waiting if g.id.is_refusal]
    if refused:  # refused segments: the words are the new prompt of the one answered
        await _at_refused(rt, bot, message, lang, job, refused, text, said, update_id)
    elif said is Meaning.YES:
        await decisions.approve_gate(rt, bot, message.chat_id, lang, job.id, gate)
    elif said is Meaning.MAYBE:
        await _ask_yes_or_feedback(rt, bot, message.chat_id, lang, job, gate, _words(text))
    elif gate.id.stage == GateStage.SCRIPT and redo_noun(text):  # "переделай клип 3", "сделай клип 11 …"
        await reply(rt, bot, message.chat_id, lang, "wrong_stage_script", count=count)
    elif gate.id.stage == GateStage.SCRIPT:
        await _script_feedback(rt, bot, message.chat_id, lang, job, gate.id, text, update_id)
    else:
        await _media_feedback(rt, bot, message.chat_id, lang, job, gate, text, update_id)
    return True


async def approve_current(rt: Runtime, bot: Bot, message: Message, lang: str, update_id: int | None = None) -> None:
    """✅ on the keyboard: the chat's open gate approved. At a refused segment ✅ tries it again,
    a paid retry priced and checked like a typed «ок» (control.decide would send it unchecked);
    with several refused segments waiting, which one to retry is asked (each has its own 🔁)."""
    job = jobs.active_job_for_chat(rt.db, message.chat_id)
    waiting = gates.open_gates_for_job(rt.db, job.id) if job else []
    if job is None or not waiting:
        await reply(rt, bot, message.chat_id, lang, "nothing_to_approve")
    elif len(waiting) > 1:
        await reply(rt, bot, message.chat_id, lang, "refusal_which", numbers=decisions.refused_numbers(waiting))
    elif waiting[0].id.is_refusal:
        await _retry_refused(rt, bot, message.chat_id, lang, job, waiting[0].id, None, update_id, "refusal_retrying")
    else:
        await decisions.approve_gate(rt, bot, message.chat_id, lang, job.id, waiting[0])


async def _at_refused(
    rt: Runtime,
    bot: Bot,
    message: Message,
    lang: str,
    job: Job,
    refused: list[Gate],
    text: str,
    said: Meaning,
    update_id: int | None,
) -> None:
    """A text while refused segments wait: routed to the one the user replied to, or the one it
    names ("7: …"), or the only one; with several and no clue, which is asked."""
    gate, words = _answered(message, refused, text)
    if gate is None:
        await reply(rt, bot, message.chat_id, lang, "refusal_which", numbers=decisions.refused_numbers(refused))
    elif said is Meaning.YES:  # ✅: the same prompt again
        await _retry_refused(rt, bot, message.chat_id, lang, job, gate.id, None, update_id, "refusal_retrying")
    else:
        await _new_prompt(rt, bot, message.chat_id, lang, job, gate.id, words, update_id)


def _answered(message: Message, refused: list[Gate], text: str) -> tuple[Gate | None, str]:
    by_segment = {g.id.segment: g for g in refused}
    replied = _replied_to(message.reply_to_message, refused)
    if replied is not None:
        return replied, text
    named = named_segment(text)
    if named is not None and named[0] in by_segment:
        return by_segment[named[0]], named[1]
    return (refused[0], text) if len(refused) == 1 else (None, text)


def _replied_to(replied: Message | None, refused: list[Gate]) -> Gate | None:
    """The refused segment whose message the user replied to: by its buttons (they name the
    gate), else by its text ("клип 7 из 10", in either language)."""
    if replied is None:
        return None
    markup = replied.reply_markup
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            parts = callbacks.parse(button.callback_data if isinstance(button.callback_data, str) else None)
            if parts[0] == callbacks.REFUSAL_RETRY and len(parts) == 4:
                found = next((g for g in refused if g.stage == parts[2]), None)
                if found is not None:
                    return found
    said = replied.text or ""
    for gate in refused:
        kind, segment = gate.id.media, gate.id.segment
        for lang, of in (("ru", "из"), ("en", "of")):
            if kind is not None and f"{texts.named(lang, kind.noun, [segment])} {of} " in said:
                return gate
    return None


async def _ask_yes_or_feedback(
    rt: Runtime, bot: Bot, chat_id: int, lang: str, job: Job, gate: Gate, words: str
) -> None:
    """ "да, но короче": approval or a wish? Asked with two buttons, ✅ and the revision (with
    its price); the words wait in the gate row until one is tapped."""
    round_ = gates.offer_redo_all(rt.db, job.id, gate.id, words)
    if round_ is None:
        await reply(rt, bot, chat_id, lang, "nothing_to_approve")
        return
    stage = GateStage(gate.stage)
    everyone = list(range(rt.settings.pipeline.segment_count))
    usd = await asyncio.to_thread(_price, rt, job, stage, everyone, words)
    key = "ask_script" if stage == GateStage.SCRIPT else "ask_redo_all"
    what = "" if stage == GateStage.SCRIPT else texts.counted(lang, media_kind(stage).noun, len(everyone))
    question = texts.text(lang, key, words=texts.clip(words, 300), what=what, usd=f"{usd:.2f}")
    keyboard = ui.yes_or_redo_keyboard(lang, job.id, stage, round_, usd)
    await call(lambda: bot.send_message(chat_id, question, reply_markup=keyboard), "sendMessage", rt.settings)


def _over_budget_amounts(lang: str, over: BudgetExceeded, usd: float, job_usd: float) -> dict[str, str]:
    """The amounts of "redo_over_budget" and when the revision would fit: once the user's own
    last 24 hours fall low enough, later for the bot-wide budget; never when it is too big, nor
    when this video (`job_usd`, what it counts now, for 24 hours) and it do not fit together."""
    if usd > over.budget:
        when = texts.text(lang, "redo_over_budget_never")
    elif usd + job_usd > over.budget + 1e-9:
        when = texts.text(lang, "redo_over_budget_this_video", job=f"{job_usd:.2f}")
    elif over.scope == "user":
        when = texts.text(lang, "redo_over_budget_user", room=f"{over.budget - usd:.2f}")
    else:
        when = texts.text(lang, "redo_over_budget_bot")
    return {"usd": f"{usd:.2f}", "spent": f"{over.spent:.2f}", "budget": f"{over.budget:.2f}", "when": when}


def _generations(rt: Runtime, job: Job, stage: GateStage, indexes: list[int]) -> dict[str, int]:
    """The vendor generations a redo of `indexes` takes (none for the script's rewrite)."""
    if stage == GateStage.SCRIPT:
        return {}
    return redo_generations(rt, stage, job.aspect_ratio, job.video_model, segments=indexes)


def _price(rt: Runtime, job: Job, stage: GateStage, indexes: list[int], words: str = "") -> float:
    """What this revision will cost: the script's rewrite, or the named images or clips (and,
    with the user's words, the LLM call that works them into their prompts)."""
    if stage == GateStage.SCRIPT:
        return round(script_usd(rt), 2)
    usd = redo_usd(rt, stage, len(indexes), job.aspect_ratio, job.video_model, segments=indexes)
    return round(usd + (prompt_revision_usd(rt, stage) if words else 0.0), 2)


async def _new_prompt(
    rt: Runtime, bot: Bot, chat_id: int, lang: str, job: Job, gate: GateId, text: str, update_id: int | None
) -> None:
    words = _words(text)
    if not visible(words):
        await reply(rt, bot, chat_id, lang, "refusal_prompt_hint", n=(gate.segment or 0) + 1)
        return
    await _retry_refused(rt, bot, chat_id, lang, job, gate, words, update_id, "refusal_new_prompt")


async def _script_feedback(
    rt: Runtime, bot: Bot, chat_id: int, lang: str, job: Job, gate: GateId, text: str, update_id: int | None
) -> None:
    keyword = _REWRITE.match(text)
    words = _words(keyword.group(1) if keyword else text)
    if not visible(words):
        await reply(rt, bot, chat_id, lang, "script_feedback_hint")
        return
    usd = await asyncio.to_thread(script_usd, rt)
    result = await asyncio.to_thread(
        lambda: control.revise(rt, job.id, gate, feedback=words, update_id=update_id, usd=usd)
    )
    await _answer_revision(rt, bot, chat_id, lang, job.id, gate, result, [], usd)


async def _media_feedback(
    rt: Runtime, bot: Bot, chat_id: int, lang: str, job: Job, gate: Gate, text: str, update_id: int | None
) -> None:
    """At the image or clip gate: "покажи 7", "переделай 3 5 светлее", "переделай все ярче",
    or words alone (offered as a redo of all ten)."""
    stage, count = GateStage(gate.stage), rt.settings.pipeline.segment_count
    shown = parse_show(text)
    if shown is not None:
        await _show(rt, bot, chat_id, lang, job, stage, shown)
        return
    parsed, everyone, noun = parse_redo(text, count), redo_all_words(text), redo_noun(text)
    if noun not in (None, media_kind(stage).noun):  # "клип 3" (or "клип 11") at the image gate
        await reply(rt, bot, chat_id, lang, f"wrong_stage_{stage}", count=count)
    elif parsed is not None:  # with no numbers ("сделай клипы медленнее") all of them, asked
        chosen, ask = (list(range(count)), True) if parsed.segments is None else (parsed.segments, False)
        await _redo(rt, bot, chat_id, lang, job, gate, chosen, parsed.words, ask=ask, update_id=update_id)
    elif everyone is not None:
        await _redo(rt, bot, chat_id, lang, job, gate, list(range(count)), everyone, ask=False, update_id=update_id)
    elif _REDO.match(text) or not visible(text) or not re.search(r"\w", text):
        # "переделай 11" or "переделай" alone: say how
        await reply(rt, bot, chat_id, lang, "redo_hint", what=texts.text(lang, f"redo_what_{stage}"), count=count)
    else:  # words alone: what to redo is a guess, so it is always asked
        await _redo(rt, bot, chat_id, lang, job, gate, list(range(count)), text, ask=True, update_id=update_id)


async def _redo(
    rt: Runtime,
    bot: Bot,
    chat_id: int,
    lang: str,
    job: Job,
    gate: Gate,
    indexes: list[int],
    words: str,
    *,
    ask: bool,
    update_id: int | None,
) -> None:
    """Redo the named images or clips. Its price is said before anything is paid: at or above
    REDO_CONFIRM_USD (or when what to redo was guessed) as a question with one tap to confirm,
    below it in the answer that starts it."""
    settings, words = rt.settings, _words(words)
    taken = update_id is not None and gate.revised_by_update == update_id  # a redelivery: answered as before
    if gate.revisions >= settings.pipeline.max_gate_revisions and not taken:
        await reply(rt, bot, chat_id, lang, "revise_limit", limit=settings.pipeline.max_gate_revisions)
        return
    usd = await asyncio.to_thread(_price, rt, job, GateStage(gate.stage), indexes, words)
    if (ask or usd >= settings.pipeline.redo_confirm_usd) and not taken:
        await _offer_redo(rt, bot, chat_id, lang, job, gate, indexes, words, usd)
        return
    result = await asyncio.to_thread(
        lambda: control.revise(
            rt,
            job.id,
            gate.id,
            feedback=words or None,
            segments=indexes,
            update_id=update_id,
            usd=usd,
            generations=_generations(rt, job, GateStage(gate.stage), indexes),
        )
    )
    await _answer_revision(rt, bot, chat_id, lang, job.id, gate.id, result, indexes, usd)


async def _answer_revision(
    rt: Runtime,
    bot: Bot,
    chat_id: int,
    lang: str,
    job_id: str,
    gate: GateId,
    result: control.Decision,
    indexes: list[int],
    usd: float,
) -> None:
    """What the user is told after feedback at a gate: the round it is (from the decision), this
    revision's own price and, apart from it, what the whole video has cost so far."""
    if not result.done:
        await _not_revised(rt, bot, chat_id, lang, job_id, result, usd)
        return
    spent = texts.text(lang, "spent_so_far", usd=f"{job_cost_usd(rt.db, job_id):.2f}")
    noun = "image" if gate.stage == GateStage.IMAGES else "clip"
    if gate.stage == GateStage.SCRIPT:
        key, what = "revising_script", ""
    elif len(indexes) < rt.settings.pipeline.segment_count:  # "изображение 3", "клипы 2, 5"
        key, what = "revising_some", texts.named(lang, noun, indexes)
    else:  # "все 10 изображений"
        key, what = "revising_all", texts.counted(lang, noun, len(indexes))
    await reply(
        rt, bot, chat_id, lang, key, what=what, n=result.round, limit=result.limit, spent=spent, usd=f"{usd:.2f}"
    )


async def _retry_refused(
    rt: Runtime,
    bot: Bot,
    chat_id: int,
    lang: str,
    job: Job,
    gate: GateId,
    words: str | None,
    update_id: int | None,
    key: str,
    round_: int | None = None,
) -> control.Decision:
    """A refused segment tried again (with `words`, its new prompt), at that attempt's own price
    (one image or clip), and what the user is told."""
    kind = gate.media
    usd = await asyncio.to_thread(_price, rt, job, kind.gate, [gate.segment or 0]) if kind else 0.0
    made = _generations(rt, job, kind.gate, [gate.segment or 0]) if kind else {}
    result = await asyncio.to_thread(
        lambda: control.revise(
            rt, job.id, gate, feedback=words, round_=round_, update_id=update_id, usd=usd, generations=made
        )
    )
    if result.reason != "stale_round":
        await answer_refusal(rt, bot, chat_id, lang, job.id, gate, result, key, usd)
    return result


async def answer_refusal(
    rt: Runtime,
    bot: Bot,
    chat_id: int,
    lang: str,
    job_id: str,
    gate: GateId,
    result: control.Decision,
    key: str,
    usd: float,
) -> None:
    """What the user is told after a new prompt or a retry at a refused segment, with that
    attempt's own price `usd`."""
    if not result.done:
        await _not_revised(rt, bot, chat_id, lang, job_id, result, usd)
        return
    n = (gate.segment or 0) + 1
    await reply(rt, bot, chat_id, lang, key, n=n, round=result.round, limit=result.limit, usd=f"{usd:.2f}")


async def _not_revised(
    rt: Runtime, bot: Bot, chat_id: int, lang: str, job_id: str, result: control.Decision, usd: float
) -> None:
    if isinstance(result.unaffordable, BudgetExceeded):
        job_usd = await asyncio.to_thread(ledger.job_counted, rt.db, job_id)
        amounts = _over_budget_amounts(lang, result.unaffordable, usd, job_usd)
        await reply(rt, bot, chat_id, lang, "redo_over_budget", **amounts)
    elif isinstance(result.unaffordable, DailyCapReached):
        over = result.unaffordable
        if over.resets_at is None:  # more than a whole day of the model's generations
            await reply(rt, bot, chat_id, lang, "redo_daily_cap_never", cap=over.cap, wanted=over.wanted)
        else:
            time = over.resets_at.strftime("%Y-%m-%d %H:%M UTC")
            await reply(rt, bot, chat_id, lang, "redo_daily_cap", time=time, cap=over.cap)
    elif result.reason == "limit":
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
    result = await _retry_refused(rt, bot, chat_id, lang, job, gate, None, update_id, "refusal_retrying", int(parts[3]))
    if result.reason == "stale_round":
        await drop_buttons(rt, query)
        return texts.text(lang, "stale_round")
    if result.done:
        await drop_buttons(rt, query)
    return texts.text(lang, "cb_refusal_retry") if result.done else texts.text(lang, "not_at_this_stage")


async def _offer_redo(
    rt: Runtime, bot: Bot, chat_id: int, lang: str, job: Job, gate: Gate, indexes: list[int], words: str, usd: float
) -> None:
    """[🔁 Переделать (≈ $1.20)] [Отмена] under the redo's price; the words wait in the gate row."""
    round_ = gates.offer_redo_all(rt.db, job.id, gate.id, words)
    if round_ is None:
        await reply(rt, bot, chat_id, lang, "nothing_to_approve")
        return
    count, stage = rt.settings.pipeline.segment_count, GateStage(gate.stage)
    noun = media_kind(stage).noun
    spent = texts.text(lang, "spent_so_far", usd=f"{job_cost_usd(rt.db, job.id):.2f}")
    if len(indexes) == count:
        what, key = texts.counted(lang, noun, count), "redo_all_offer" if words else "redo_all_offer_plain"
        chosen = None
    else:
        what, key = texts.named(lang, noun, indexes), "redo_some_offer" if words else "redo_some_offer_plain"
        chosen = indexes
    offer = texts.text(lang, key, what=what, words=texts.clip(words, 300), usd=f"{usd:.2f}", spent=spent)
    keyboard = ui.redo_all_keyboard(lang, job.id, stage, round_, usd, chosen)
    await call(
        lambda: bot.send_message(chat_id, texts.clip(offer, texts.TELEGRAM_TEXT_LIMIT), reply_markup=keyboard),
        "sendMessage",
        rt.settings,
    )


async def redo_all_from_button(
    rt: Runtime, bot: Bot, query: CallbackQuery, lang: str, chat_id: int, parts: list[str], update_id: int | None = None
) -> str:
    """The answer to [🔁 Переделать …] or [Отмена] under an offer (or [✏️ Переписать] under
    "approval or a wish?" at the script gate)."""

    def t(key: str, **kw) -> str:
        return texts.text(lang, key, **kw)

    chosen = ui.parse_segments(parts[4], rt.settings.pipeline.segment_count) if len(parts) == 5 else None
    if len(parts) not in (4, 5) or parts[2] not in ui.CODE_STAGES or not parts[3].isdigit() or chosen == []:
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
    stage = GateStage(gate.stage)
    indexes = [] if stage == GateStage.SCRIPT else chosen or list(range(rt.settings.pipeline.segment_count))
    usd = await asyncio.to_thread(_price, rt, job, stage, indexes, words)
    result = await asyncio.to_thread(
        lambda: control.revise(
            rt,
            job_id,
            gate,
            feedback=words or None,
            segments=indexes or None,
            round_=round_,
            update_id=update_id,
            usd=usd,
            generations=_generations(rt, job, stage, indexes),
        )
    )
    if result.reason == "stale_round":
        return t("offer_stale")
    await _answer_revision(rt, bot, chat_id, lang, job_id, gate, result, indexes, usd)
    if not result.done:
        return t("offer_stale")
    return t("cb_redo_all") if len(indexes) == rt.settings.pipeline.segment_count else t("cb_redo")


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
