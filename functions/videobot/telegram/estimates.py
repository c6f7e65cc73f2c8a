"""What a job, or a redo at a gate, will cost before it is spent, with the configured models
(the accepted topic, the daily budget, "redo all")."""

from __future__ import annotations

from videobot import usage
from videobot.pipeline import REFERENCE_SEGMENT, GateStage
from videobot.providers.base import ClipRequest, ImageRequest
from videobot.runtime import Runtime

NARRATION_CHARS_PER_SEGMENT = 90  # about 5 s of speech


def _task_usd(estimate: dict) -> float:
    """A task's price. A provider that cannot price its model raises; none is counted as 0."""
    return float(estimate["credits"]) * usage.USD_PER_RUNWAY_CREDIT


def _image_request(ratio: str, index: int) -> ImageRequest:
    # segments 1-9 are made from segment 0's image (the reference model, gen4_image_turbo)
    return ImageRequest(
        prompt="", ratio=ratio, seed=index, reference_image_url=None if index == REFERENCE_SEGMENT else "reference"
    )


def _clip_request(rt: Runtime, ratio: str, model: str | None) -> ClipRequest:
    seconds = int(rt.settings.pipeline.segment_seconds)
    return ClipRequest(prompt="", ratio=ratio, image_url="", duration=seconds, model=model)


def clip_usd(rt: Runtime, ratio: str, model: str | None = None) -> float:
    """One clip on `model` (None: the deployment's default), as the provider bills it."""
    return _task_usd(rt.clips.estimate(_clip_request(rt, ratio, model)))


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


def redo_generations(
    rt: Runtime, stage: GateStage, ratio: str, model: str | None = None, segments: list[int] | None = None
) -> dict[str, int]:
    """The Runway generations (model -> count) making the `segments` images or clips again
    takes, for the models' daily caps; none offline."""
    counted: dict[str, int] = {}
    for i in segments or []:
        if stage == GateStage.IMAGES:
            estimate = rt.images.estimate(_image_request(ratio, i))
        else:
            estimate = rt.clips.estimate(_clip_request(rt, ratio, model))
        if estimate["vendor"] == "runway":
            counted[estimate["model"]] = counted.get(estimate["model"], 0) + 1
    return counted


def prompt_revision_usd(rt: Runtime, stage: GateStage) -> float:
    """The one LLM call that works the user's words into the named image or motion prompts
    before a redo (RedoImages, RedoClips), as the ledger reserves it; 0 offline."""
    if rt.settings.providers.pipeline_llm == "offline":
        return 0.0
    role = "revise_image_prompts" if stage == GateStage.IMAGES else "revise_animation_prompts"
    return usage.llm_estimate(rt.settings, role)


def video_usd(rt: Runtime, ratio: str, model: str | None = None) -> float:
    """The clips of one whole video on `model`: what /settings shows beside each model."""
    return round(rt.settings.pipeline.segment_count * clip_usd(rt, ratio, model), 2)


def script_usd(rt: Runtime) -> float:
    """One rewrite of the script with the user's words, as the ledger reserves it (the rewrite
    and its one retry); 0 offline."""
    if rt.settings.providers.pipeline_llm == "offline":
        return 0.0
    return usage.llm_estimate(rt.settings, "script")


def estimated_job_usd(rt: Runtime, ratio: str, video_model: str | None = None) -> float:
    """The estimated cost of a whole job with the configured models and the user's video model,
    before anything is paid: ten images, ten clips, the LLM calls and the narration."""
    settings = rt.settings
    count = settings.pipeline.segment_count
    total = redo_usd(rt, GateStage.IMAGES, count, ratio) + redo_usd(rt, GateStage.VIDEOS, count, ratio, video_model)
    if settings.providers.pipeline_llm != "offline":  # as the ledger reserves them
        total += usage.llm_estimate(settings, "script") + usage.llm_estimate(settings, "image_prompts")
    total += count * usage.speech_estimate(settings, settings.providers.pipeline_tts, NARRATION_CHARS_PER_SEGMENT)[1]
    return round(total, 2)
