"""What a job, or a redo at a gate, will cost before it is spent, with the configured models
(the accepted topic, the daily budget, "redo all")."""

from __future__ import annotations

from videobot import usage
from videobot.pipeline import GateStage
from videobot.providers.base import ClipRequest, ImageRequest
from videobot.runtime import Runtime

REFERENCE_SEGMENT = 0  # as stages.generate_images: its image is the others' reference

# A job's LLM work before it is done: the script, then the image and animation prompts in one
# call (tokens in, tokens out, from the offline script writer's sizes and the prompt files).
LLM_TOKENS_PER_JOB = ((1_500, 1_500), (3_500, 3_000))
NARRATION_CHARS_PER_SEGMENT = 90  # about 5 s of speech


def _task_usd(estimate: dict) -> float:
    """A task's price. A provider that cannot price its model raises; none is counted as 0."""
    return float(estimate["credits"]) * usage.USD_PER_RUNWAY_CREDIT


def _image_request(ratio: str, index: int) -> ImageRequest:
    # segments 1-9 are made from segment 0's image (the reference model, gen4_image_turbo)
    return ImageRequest(
        prompt="", ratio=ratio, seed=index, reference_image_url=None if index == REFERENCE_SEGMENT else "reference"
    )


def clip_usd(rt: Runtime, ratio: str, model: str | None = None) -> float:
    """One clip on `model` (None: the deployment's default), as the provider bills it."""
    seconds = int(rt.settings.pipeline.segment_seconds)
    return _task_usd(
        rt.clips.estimate(ClipRequest(prompt="", ratio=ratio, image_url="", duration=seconds, model=model))
    )


def redo_usd(
    rt: Runtime,
    stage: GateStage,
    count: int,
    ratio: str,
    model: str | None = None,
    segments: list[int] | None = None,
) -> float:
    """What making `count` images (stage "images") or clips ("videos", on `model`) again
    costs; `segments` (0-based) names which, else the first `count`."""
    indexes = list(segments) if segments is not None else list(range(count))
    if stage == GateStage.IMAGES:
        return sum(_task_usd(rt.images.estimate(_image_request(ratio, i))) for i in indexes)
    return len(indexes) * clip_usd(rt, ratio, model)


def video_usd(rt: Runtime, ratio: str, model: str | None = None) -> float:
    """The clips of one whole video on `model`: what /settings shows beside each model."""
    return round(rt.settings.pipeline.segment_count * clip_usd(rt, ratio, model), 2)


def _llm_usd(rt: Runtime, tokens: tuple[tuple[int, int], ...]) -> float:
    """LLM calls of these (tokens in, tokens out) sizes with the configured model; 0 offline."""
    settings = rt.settings
    if settings.providers.pipeline_llm == "offline":
        return 0.0
    prices = usage.LLM_USD_PER_MTOK.items()
    price_in, price_out = next(
        (v for k, v in prices if settings.openai.model.startswith(k)), usage.LLM_USD_PER_MTOK_FALLBACK
    )
    return sum(i * price_in + o * price_out for i, o in tokens) / 1e6


def script_usd(rt: Runtime) -> float:
    """One rewrite of the script with the user's words (the script's own call)."""
    return _llm_usd(rt, LLM_TOKENS_PER_JOB[:1])


def estimated_job_usd(rt: Runtime, ratio: str, video_model: str | None = None) -> float:
    """The estimated cost of a whole job with the configured models and the user's video model,
    before anything is paid: ten images, ten clips, the LLM calls and the narration."""
    settings = rt.settings
    count = settings.pipeline.segment_count
    total = redo_usd(rt, GateStage.IMAGES, count, ratio) + redo_usd(rt, GateStage.VIDEOS, count, ratio, video_model)
    total += _llm_usd(rt, LLM_TOKENS_PER_JOB)
    if settings.providers.pipeline_tts != "offline":
        model = settings.openai.tts_model if settings.providers.pipeline_tts == "openai" else "standard"
        price = usage.tts_price(settings.providers.pipeline_tts, model)
        total += count * NARRATION_CHARS_PER_SEGMENT * price / 1e6
    return round(total, 2)
