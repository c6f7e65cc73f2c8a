"""What a job, or a redo at a gate, will cost before it is spent, with the configured models
(the accepted topic, the daily budget, "redo all")."""

from __future__ import annotations

from videobot import runtime, usage
from videobot.providers.base import ClipRequest, ImageRequest

# A job's LLM work before it is done: the script, then the image and animation prompts in one
# call (tokens in, tokens out, from the offline script writer's sizes and the prompt files).
LLM_TOKENS_PER_JOB = ((1_500, 1_500), (3_500, 3_000))
NARRATION_CHARS_PER_SEGMENT = 90  # about 5 s of speech


def _task_usd(estimate: dict) -> float:
    return float(estimate.get("credits") or 0) * usage.USD_PER_RUNWAY_CREDIT


def redo_usd(stage: str, count: int, ratio: str) -> float:
    """What making `count` images (stage "images") or clips ("videos") again costs."""
    rt = runtime.current()
    if stage == "images":
        return count * _task_usd(rt.images.estimate(ImageRequest(prompt="", ratio=ratio)))
    seconds = int(rt.settings.segment_seconds)
    return count * _task_usd(rt.clips.estimate(ClipRequest(prompt="", ratio=ratio, image_url="", duration=seconds)))


def estimated_job_usd(ratio: str) -> float:
    """The estimated cost of a whole job with the configured models, before anything is paid:
    ten images, ten clips, the LLM calls and the narration."""
    rt = runtime.current()
    settings = rt.settings
    count = settings.segment_count
    total = redo_usd("images", count, ratio) + redo_usd("videos", count, ratio)
    if settings.llm_provider != "offline":
        prices = usage.LLM_USD_PER_MTOK.items()
        price_in, price_out = next((v for k, v in prices if settings.openai_model.startswith(k)),
                                   usage.LLM_USD_PER_MTOK_FALLBACK)
        total += sum(i * price_in + o * price_out for i, o in LLM_TOKENS_PER_JOB) / 1e6
    if settings.tts_provider != "offline":
        model = settings.openai_tts_model if settings.tts_provider == "openai" else "standard"
        price = usage.tts_price(settings.tts_provider, model)
        total += count * NARRATION_CHARS_PER_SEGMENT * price / 1e6
    return round(total, 2)
