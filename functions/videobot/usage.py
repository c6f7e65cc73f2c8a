"""What each job spent at the vendors: LLM tokens, speech characters, Runway credits by model
and seconds (videobot.data.usage). Status shows `summary()`.

The dollar figure is an estimate from the list prices below (checked November 2026; the
vendors' pricing pages win). Runway's own reported credits replace the estimate per task.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from videobot.data import jobs
from videobot.data import usage as data
from videobot.data.db import Database
from videobot.observability import put_metric
from videobot.providers.base import Speech

USD_PER_RUNWAY_CREDIT = 0.01
# USD per million tokens (input, output). Unknown models use the fallback.
LLM_USD_PER_MTOK = {
    "gpt-5.4-mini": (0.75, 4.50),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4o-mini-transcribe": (1.25, 5.00),
    "gpt-4o-transcribe": (2.50, 10.00),  # audio in,
    "gpt-transcribe": (2.50, 10.00),
}  # text out
LLM_USD_PER_MTOK_FALLBACK = (1.25, 10.0)
# USD per million characters of speech. gpt-4o-mini-tts bills tokens (about 0.015 USD a
# minute); per character that is about 20 USD per million.
TTS_USD_PER_MCHAR = {
    # Realtime bills audio-out tokens; taken at gpt-4o-mini-tts's rate per character until
    # OpenAI's pricing page is checked for gpt-realtime-2.1-mini.
    "gpt-realtime-2.1-mini": 20.0,
    "gpt-4o-mini-tts": 20.0,
    "tts-1": 15.0,
    "tts-1-hd": 30.0,
    "polly:standard": 4.0,
    "polly:neural": 16.0,
    "offline": 0.0,
}


def _spent(vendor: str, usd: float) -> None:
    """VendorSpendUsd by vendor, as the spend is recorded: the operator's dashboard sums a day
    of it (an estimate until Runway reports a task's cost, then corrected by the difference)."""
    if usd:
        put_metric("VendorSpendUsd", usd, MetricUnit.NoUnit, vendor=vendor)


def llm_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    price_in, price_out = next(
        (v for k, v in LLM_USD_PER_MTOK.items() if model.startswith(k)), LLM_USD_PER_MTOK_FALLBACK
    )
    return (input_tokens * price_in + output_tokens * price_out) / 1e6


def record_llm(db: Database, job_id: str, stage: str, usage: dict | None) -> None:
    """Record one stage's LLM calls (an LLM result's `usage`); nothing for offline."""
    if not usage or not usage.get("calls"):
        return
    vendor, model = usage.get("vendor", "openai"), usage.get("model", "")
    input_tokens, output_tokens = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    data.insert_llm(
        db,
        job_id,
        stage,
        vendor=vendor,
        model=model,
        calls=int(usage["calls"]),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )
    _spent(vendor, llm_usd(model, input_tokens, output_tokens))


def record_speech(db: Database, job_id: str, segment_index: int, speech: Speech) -> None:
    """Record one synthesized narration part."""
    model, characters = speech.model or "", int(speech.characters)
    data.insert_speech(db, job_id, segment_index, vendor=speech.vendor, model=model, characters=characters)
    _spent(speech.vendor, characters * tts_price(speech.vendor, model) / 1e6)


def record_task(db: Database, job_id: str, stage: str, segment_index: int, task_id: str, estimate: dict) -> None:
    """Record a submitted vendor task once, with its model, billed seconds and estimated credits
    (a generator's `estimate`; a missing price raises rather than records 0)."""
    recorded = data.insert_task(
        db,
        job_id,
        stage,
        segment_index,
        task_id,
        vendor=estimate["vendor"],
        model=estimate["model"],
        seconds=float(estimate.get("seconds", 0)),
        credits=float(estimate["credits"]),
    )
    if recorded and estimate["vendor"] == "runway":
        _spent("runway", float(estimate["credits"]) * USD_PER_RUNWAY_CREDIT)


def settle_task(db: Database, task_id: str, credits: float | None) -> None:
    """Replace the estimate with the cost the vendor reported when the task ended."""
    settled = data.settle_task(db, task_id, None if credits is None else float(credits))
    if settled and settled["vendor"] == "runway":
        _spent("runway", (float(settled["final"]) - float(settled["estimated"])) * USD_PER_RUNWAY_CREDIT)


def task_running(db: Database, task_id: str):
    """Note that a poll saw the task RUNNING; when it was first seen so (its generation's start:
    the time before, THROTTLED or PENDING in Runway's queue, is not generation time)."""
    return data.task_running(db, task_id)


def recent_task_seconds(db: Database, model: str, limit: int = 20) -> list[float]:
    """What the model's recent tasks took (videobot.data.usage), to place the first checks."""
    return data.recent_task_seconds(db, model, limit)


def model_of_task(db: Database, task_id: str) -> str | None:
    return data.model_of_task(db, task_id)


def rows(db: Database, job_id: str) -> list[dict]:
    return data.rows(db, job_id)


def tts_price(vendor: str, model: str) -> float:
    if vendor == "polly":
        return TTS_USD_PER_MCHAR["polly:" + model.split(":", 1)[0]] if ":" in model else 4.0
    return TTS_USD_PER_MCHAR.get(model, 0.0 if vendor == "offline" else 20.0)


def summary(db: Database, job_id: str) -> dict:
    """Totals for one job, and the estimated cost in USD."""
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
                usd += r["credits"] * USD_PER_RUNWAY_CREDIT
        elif r["stage"] == "record_voiceover":
            totals["tts_characters"] += r["characters"]
            model["characters"] += r["characters"]
            spoken = r["characters"] * tts_price(r["vendor"], r["model"]) / 1e6
            usd += spoken
            narration += spoken
        else:
            totals["llm_calls"] += r["calls"]
            totals["llm_input_tokens"] += r["input_tokens"]
            totals["llm_output_tokens"] += r["output_tokens"]
            model["tokens"] += r["input_tokens"] + r["output_tokens"]
            usd += llm_usd(r["model"], r["input_tokens"], r["output_tokens"])
    totals["estimated_usd"] = round(usd, 4)
    totals["narration_usd"] = round(narration, 4)
    return totals


def spent_by_user(db: Database, user_id: int, hours: int = 24) -> float:
    """The estimated USD of the user's jobs created in the last `hours` (their daily budget)."""
    return round(
        sum(summary(db, job_id)["estimated_usd"] for job_id in jobs.job_ids_of_user_since(db, user_id, hours)), 2
    )


def spent_by_everyone(db: Database, hours: int = 24) -> float:
    """The estimated USD of all jobs created in the last `hours` (the bot-wide budget)."""
    return round(sum(summary(db, job_id)["estimated_usd"] for job_id in jobs.job_ids_since(db, hours)), 2)
