"""What a job cost, as the bot says it (Status, the delivered video, /history, revisions)."""

from __future__ import annotations

from videobot import usage
from videobot.data.db import Database
from videobot.telegram import texts


def job_cost_usd(db: Database, job_id: str) -> float:
    return usage.summary(db, job_id)["estimated_usd"]


def cost_line(db: Database, lang: str, job_id: str) -> str:
    return texts.text(lang, "cost_line", usd=f"{job_cost_usd(db, job_id):.2f}")


def cost_with_narration(db: Database, lang: str, job_id: str) -> str:
    """The cost line, saying what of it the narration took when it was paid for (a job
    rejected after its early voice-over)."""
    totals = usage.summary(db, job_id)
    line = texts.text(lang, "cost_line", usd=f"{totals['estimated_usd']:.2f}")
    if totals["tts_characters"]:
        line += texts.text(lang, "cost_narration", usd=f"{totals['narration_usd']:.2f}")
    return line
