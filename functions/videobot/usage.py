"""What the bot spends at the vendors, held by one seam: `paid_call`. Every paid call (each LLM
call, speech part, transcription and Runway task, redos and retries included) is made inside
it: its estimate is reserved in the ledger (videobot.data.ledger) against the user's and the
bot-wide 24-hour budgets before the call, and settled to what the vendor reported after it, or
released when the call was refused or never made. tests/unit/test_spend_ledger.py checks that no
paid provider method is called anywhere else.

Each call is priced in its vendor's own unit (checked 2026-12-04; README, "Vendor rules the fakes enforce"):
tokens for the LLM, minutes of audio for gpt-transcribe (its usage says `{type: "duration",
seconds}`, or tokens), audio output tokens for realtime speech, characters for Polly, and the
task's reported `cost` in credits for Runway (a FAILED task too, unless refunded)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from videobot.config import Settings
from videobot.data import ledger
from videobot.data.db import Database
from videobot.observability import put_metric
from videobot.pipeline import CLIP, IMAGE
from videobot.providers.base import Speech, Transcript

USD_PER_RUNWAY_CREDIT = 0.01
# USD per million tokens (input, output). Unknown models use the fallback.
LLM_USD_PER_MTOK = {
    "gpt-5.4-mini": (0.75, 4.50),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4o-mini-transcribe": (1.25, 5.00),
    "gpt-4o-transcribe": (2.50, 10.00),
}
LLM_USD_PER_MTOK_FALLBACK = (1.25, 10.0)
# Transcription billed by the minute of audio (OpenAI's model pages): gpt-transcribe 0.0045 USD.
TRANSCRIBE_USD_PER_MINUTE = {
    "gpt-transcribe": 0.0045,
    "gpt-4o-mini-transcribe": 0.003,
    "gpt-4o-transcribe": 0.006,
    "whisper-1": 0.006,
}
# Realtime speech: USD per million tokens (text in, text out, audio out). gpt-realtime-2.1-mini's
# page: text 0.60 / 2.40, audio out 20.00.
REALTIME_USD_PER_MTOK = {"gpt-realtime-2.1-mini": (0.60, 2.40, 20.0), "gpt-realtime-mini": (0.60, 2.40, 20.0)}
REALTIME_FALLBACK = (4.0, 16.0, 64.0)
# The estimate only (the settle reads the reported audio tokens): about 20 audio tokens a
# second of speech, about 14 characters of text a second.
AUDIO_TOKENS_PER_SECOND, CHARS_PER_SECOND = 20, 14
# Speech billed by the character: USD per million.
SPEECH_USD_PER_MCHAR = {
    "gpt-4o-mini-tts": 20.0,  # billed in tokens, about 0.015 USD a minute
    "tts-1": 15.0,
    "tts-1-hd": 30.0,
    "polly:standard": 4.0,
    "polly:neural": 16.0,
}
# What one LLM call of each role reads and writes (tokens in, out), for the reservation; the
# settle reads the reply's usage. The script writer may call twice (a rewrite of a script that
# broke the rules), so its reservation covers two.
LLM_TOKENS = {
    "script": (1_500, 1_500),
    "image_prompts": (3_500, 3_000),
    "animation_prompts": (3_500, 1_500),
    "narration": (2_500, 800),  # the script and the parts too long, their shorter versions
    "revise_image_prompts": (3_000, 1_500),  # the video's ten prompts and the wish; those named, rewritten
    "revise_animation_prompts": (2_000, 800),  # the named clips' pictures, motions and the wish; the motions
}
LLM_CALLS = {
    "script": 2,
    "image_prompts": 1,
    "animation_prompts": 1,
    "narration": 1,
    "revise_image_prompts": 1,
    "revise_animation_prompts": 1,
}
OGG_BYTES_PER_SECOND = 2_000  # a voice note's length from its size, for the reservation (Opus is ~2-4 KB/s)


def _per_mtok(model: str) -> tuple[float, float]:
    return next((v for k, v in LLM_USD_PER_MTOK.items() if model.startswith(k)), LLM_USD_PER_MTOK_FALLBACK)


def llm_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    price_in, price_out = _per_mtok(model)
    return (input_tokens * price_in + output_tokens * price_out) / 1e6


def speech_price(vendor: str, model: str) -> float:
    """USD per million characters for a character-billed voice (Polly, tts-1); 0 offline. A Polly
    `model` is its engine, or "engine:voice" as a Speech reports it (no engine named: standard)."""
    if vendor == "offline":
        return 0.0
    if vendor == "polly":
        engine = model.split(":", 1)[0]
        return SPEECH_USD_PER_MCHAR.get("polly:" + engine, SPEECH_USD_PER_MCHAR["polly:standard"])
    return SPEECH_USD_PER_MCHAR.get(model, 20.0)


def realtime_usd(model: str, audio_tokens: int, text_in: int = 0, text_out: int = 0) -> float:
    price_in, price_out, price_audio = REALTIME_USD_PER_MTOK.get(model, REALTIME_FALLBACK)
    return (text_in * price_in + text_out * price_out + audio_tokens * price_audio) / 1e6


def speech_usd(speech: Speech) -> float:
    """What one spoken part cost, in its vendor's units: the realtime model's audio output (and
    text) tokens of every attempt, and the characters of a character-billed voice (Polly, or
    the fallback that read a part the realtime model did not read verbatim)."""
    usd = 0.0
    if speech.audio_tokens or speech.text_tokens_in or speech.text_tokens_out:
        usd += realtime_usd(speech.realtime_model, speech.audio_tokens, speech.text_tokens_in, speech.text_tokens_out)
    if speech.vendor != "openai":
        usd += speech.characters * speech_price(speech.vendor, speech.model) / 1e6
    return usd


def transcript_usd(transcript: Transcript) -> float | None:
    """By the minute when the reply said its duration, else by its tokens; None: neither."""
    if transcript.seconds is not None and transcript.model in TRANSCRIBE_USD_PER_MINUTE:
        return transcript.seconds / 60 * TRANSCRIBE_USD_PER_MINUTE[transcript.model]
    if transcript.input_tokens or transcript.output_tokens:
        return llm_usd(transcript.model, transcript.input_tokens, transcript.output_tokens)
    return None


# ---- the estimates a call reserves ------------------------------------------------------------


def llm_call(settings: Settings, job_id: str, stage: str, role: str) -> ledger.Call:
    """One LLM method's calls at the configured model."""
    if settings.providers.llm == "offline":
        return _call(job_id, stage, "offline", "offline", 0.0)
    return _call(job_id, stage, "openai", settings.openai.model, llm_estimate(settings, role))


def speech_estimate(settings: Settings, vendor: str, characters: int) -> tuple[str, float]:
    """(model, USD) of speaking `characters` with `vendor`: audio tokens for realtime speech
    (each verbatim retry too, and the fallback voice), else characters."""
    if vendor == "openai":
        model, tries = settings.openai.tts_model, settings.openai.tts_verbatim_retries + 1
        tokens = int(characters / CHARS_PER_SECOND * AUDIO_TOKENS_PER_SECOND)
        usd = realtime_usd(model, tokens, characters // 3, characters // 3) * tries
        if settings.providers.tts_fallback == "polly":  # a part read by neither verbatim goes to Polly
            usd += characters * speech_price("polly", settings.polly.engine) / 1e6
        return model, usd
    if vendor == "polly":
        return settings.polly.engine, characters * speech_price("polly", settings.polly.engine) / 1e6
    return "offline", 0.0


def speech_call(settings: Settings, job_id: str, index: int, text: str) -> ledger.Call:
    """One narration part."""
    model, usd = speech_estimate(settings, settings.providers.tts, len(text))
    return _call(
        job_id, "record_voiceover", settings.providers.tts, model, usd, segment_index=index, characters=len(text)
    )


def llm_estimate(settings: Settings, role: str) -> float:
    """USD of one LLM method's calls (up to LLM_CALLS of them) at the configured model."""
    tokens_in, tokens_out = (n * LLM_CALLS[role] for n in LLM_TOKENS[role])
    return llm_usd(settings.openai.model, tokens_in, tokens_out)


def transcription_call(
    settings: Settings, job_id: str | None, stage: str, audio_bytes: int, user_id: int | None = None
) -> ledger.Call:
    model = settings.openai.transcribe_model
    seconds = max(1.0, audio_bytes / OGG_BYTES_PER_SECOND)
    per_minute = TRANSCRIBE_USD_PER_MINUTE.get(model)
    usd = seconds / 60 * per_minute if per_minute else llm_usd(model, int(seconds * 10), 200)
    return _call(job_id, stage, "openai", model, usd, seconds=seconds, user_id=user_id)


def task_call(job_id: str, stage: str, index: int, submission: int | str, estimate: dict, kind: str) -> ledger.Call:
    """One vendor task (a generator's `estimate`; a missing price raises rather than reserves
    0), keyed by its segment and submission: a retried Lambda finds its reservation."""
    return ledger.Call(
        key=f"{job_id}:{kind}:{index}:{submission}",
        job_id=job_id,
        stage=stage,
        vendor=estimate["vendor"],
        model=estimate["model"],
        usd=float(estimate["credits"]) * USD_PER_RUNWAY_CREDIT,
        segment_index=index,
        units={"seconds": float(estimate.get("seconds", 0)), "credits": float(estimate["credits"])},
    )


def _call(job_id: str | None, stage: str, vendor: str, model: str, usd: float, **units: Any) -> ledger.Call:
    index, user_id = units.pop("segment_index", None), units.pop("user_id", None)
    return ledger.Call(
        user_id=user_id,
        key=f"{job_id}:{stage}:{uuid.uuid4().hex}",
        job_id=job_id,
        stage=stage,
        vendor=vendor,
        model=model,
        usd=usd,
        segment_index=index,
        units=units,
    )


# ---- the seam ---------------------------------------------------------------------------------


def budgets(settings: Settings) -> ledger.Budgets:
    return ledger.Budgets(settings.limits.max_usd_per_user_per_day, settings.limits.max_usd_per_day)


def daily_caps(settings: Settings, calls: list[ledger.Call]) -> dict[str, int]:
    """Runway's generations a day per model (RUNWAY_DAILY_GENERATIONS; 0: none)."""
    return generation_caps(settings, [c.model for c in calls if c.vendor == "runway"])


def generation_caps(settings: Settings, runway_models) -> dict[str, int]:
    cap = settings.runway.daily_generations
    return dict.fromkeys(runway_models, cap) if cap else {}


def ask(settings: Settings, usd: float, generations: dict[str, int]) -> ledger.Ask:
    """What a revision at a gate will spend (`generations`: Runway model -> count), checked
    when the gate is taken (videobot.data.gates.revise_gate)."""
    return ledger.Ask(usd, budgets(settings), generations, generation_caps(settings, generations))


def reserve_generations(db: Database, settings: Settings, calls: list[ledger.Call]) -> None:
    """Reserve a stage's vendor tasks before its Map starts (see ledger.reserve)."""
    if calls:
        ledger.reserve(db, calls, budgets(settings), daily_caps(settings, calls))


@dataclass
class Bill:
    """What a paid call inside `paid_call` cost: `settle` it with the vendor's figures, or
    `task` it (a vendor task, settled when a poll sees it end)."""

    call: ledger.Call
    usd: float | None = None
    units: dict | None = None
    task_id: str | None = None

    def settle(self, usd: float | None, **units: Any) -> None:
        self.usd, self.units = usd, units

    def task(self, task_id: str) -> None:
        self.task_id = task_id

    def llm(self, usage: dict | None) -> None:
        """An LLM method's calls, from its result's `usage` (none offline: free)."""
        if not usage or not usage.get("calls"):
            self.settle(0.0)
            return
        tokens_in, tokens_out = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
        self.settle(
            llm_usd(str(usage.get("model", "")), tokens_in, tokens_out),
            calls=int(usage["calls"]),
            input_tokens=tokens_in,
            output_tokens=tokens_out,
        )

    def speech(self, speech: Speech) -> None:
        self.settle(speech_usd(speech), characters=int(speech.characters), model=speech.model, vendor=speech.vendor)

    def transcript(self, transcript: Transcript) -> None:
        """By the minute when its usage said the duration, else by tokens, else the estimate."""
        self.settle(
            transcript_usd(transcript),
            input_tokens=transcript.input_tokens,
            output_tokens=transcript.output_tokens,
            audio_seconds=transcript.seconds or 0.0,
        )


@contextmanager
def paid_call(db: Database, settings: Settings, call: ledger.Call) -> Iterator[Bill]:
    """Reserve `call` (BudgetExceeded when it does not fit), make it, then settle it: at the
    figures the body gave `Bill.settle` (else the estimate), or, for a task, when it ends. A
    call that raised was not billed (OpenAI bills no failed request; a Runway create refused
    started nothing) and is released, unless its error says it may have spent (a create that
    timed out): that reservation stays, counted."""
    ledger.reserve(db, [call], budgets(settings), daily_caps(settings, [call]))
    bill = Bill(call)
    try:
        yield bill
    except BaseException as exc:
        if not getattr(exc, "may_have_spent", False):
            ledger.release(db, call.key)
        raise
    if bill.task_id is not None:
        ledger.attach_task(db, call.key, bill.task_id)
        return
    usd = call.usd if bill.usd is None else bill.usd
    units = bill.units or {}
    settled = ledger.settle(db, call.key, usd, **units)
    if settled:
        _spent(units.get("vendor", call.vendor), float(settled["usd"]))


def settle_task(db: Database, job_id: str, task_id: str, credits: float | None) -> None:
    """A vendor task ended: it counts the cost it reported (Runway's `cost`, a FAILED task's
    too; 0 when refunded), else its estimate."""
    row = ledger.task_key(db, job_id, task_id)
    if row is None or row["state"] != ledger.RESERVED:
        return
    units = {} if credits is None else {"credits": float(credits)}
    usd = None if credits is None else float(credits) * USD_PER_RUNWAY_CREDIT
    settled = ledger.settle(db, row["call_key"], usd if usd is not None else float(row["reserved_usd"]), **units)
    if settled:
        _spent("runway", float(settled["usd"]))


def _spent(vendor: str, usd: float) -> None:
    """VendorSpendUsd by vendor, once per call as it is settled: the operator's dashboard sums
    a day of it (the ledger's total)."""
    if usd:
        put_metric("VendorSpendUsd", usd, MetricUnit.NoUnit, vendor=vendor)


# ---- what the ledger says ----------------------------------------------------------------------


def task_running(db: Database, job_id: str, task_id: str):
    """Note that a poll saw the task RUNNING; when it was first seen so (its generation's start:
    the time before, THROTTLED or PENDING in Runway's queue, is not generation time)."""
    return ledger.task_running(db, job_id, task_id)


def recent_task_seconds(db: Database, model: str, limit: int = 20) -> list[float]:
    """What the model's recent tasks took (videobot.data.ledger), to place the first checks."""
    return ledger.recent_task_seconds(db, model, limit)


def model_of_task(db: Database, task_id: str) -> str | None:
    return ledger.model_of_task(db, task_id)


def accepted_task(db: Database, key: str) -> str | None:
    """The vendor task a reserved call was accepted as, not yet seen ending (see ledger)."""
    return ledger.accepted_task(db, key)


def rows(db: Database, job_id: str) -> list[dict]:
    return ledger.rows(db, job_id)


GENERATION_STAGES = (IMAGE.usage_stage, CLIP.usage_stage)


def summary(db: Database, job_id: str) -> dict:
    """Totals for one job, and what it cost in USD (settled, and reserved in flight)."""
    totals: dict[str, Any] = {
        "llm_calls": 0,
        "llm_input_tokens": 0,
        "llm_output_tokens": 0,
        "tts_characters": 0,
        "runway_tasks": 0,
        "runway_credits": 0.0,
        "runway_seconds": 0.0,
        "by_model": {},
        "estimated_usd": 0.0,
        "narration_usd": 0.0,
    }
    usd = narration = 0.0
    for r in rows(db, job_id):
        planned = r["stage"] in GENERATION_STAGES and not r["task_id"]  # reserved, not yet submitted
        if r["state"] == ledger.RELEASED or planned:
            continue
        amount = float(r["amount_usd"])
        usd += amount
        model = totals["by_model"].setdefault(
            f"{r['vendor']}:{r['model']}",
            {"calls": 0, "credits": 0.0, "seconds": 0.0, "tokens": 0, "characters": 0},
        )
        model["calls"] += r["calls"]
        if r["task_id"]:
            model["credits"] += r["credits"]
            model["seconds"] += r["seconds"]
            if r["vendor"] == "runway":
                totals["runway_tasks"] += 1
                totals["runway_credits"] += r["credits"]
                totals["runway_seconds"] += r["seconds"]
        elif r["stage"] == "record_voiceover":
            totals["tts_characters"] += r["characters"]
            model["characters"] += r["characters"]
            narration += amount
        else:
            totals["llm_calls"] += r["calls"]
            totals["llm_input_tokens"] += r["input_tokens"]
            totals["llm_output_tokens"] += r["output_tokens"]
            model["tokens"] += r["input_tokens"] + r["output_tokens"]
    totals["estimated_usd"] = round(usd, 4)
    totals["narration_usd"] = round(narration, 4)
    return totals


def spent(db: Database, user_id: int | None = None) -> ledger.Spent:
    """The user's and the bot's last 24 hours (jobs in flight included): one indexed query."""
    with db.connect() as conn, conn.cursor() as cur:
        return ledger.spent(cur, user_id)
