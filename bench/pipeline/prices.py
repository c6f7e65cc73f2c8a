"""List prices for the cost of one video (USD, us-east-1, checked 2026-11; change them here).

Vendor usage per video follows the pipeline's design: 3 LLM calls, 10 images, 10 clips of
5 s, and about 50 s of narration."""

from __future__ import annotations

from videobot.config import SEGMENT_COUNT

# AWS
STEP_FUNCTIONS_PER_TRANSITION = 0.025 / 1000  # Standard workflows
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_PER_GB_SECOND = 0.0000166667  # x86_64
S3_PER_GB_MONTH = 0.023
MEDIA_GB_PER_VIDEO = 0.06  # images, clips, narration, final MP4; kept ~1 month

# Runway: 1 credit = 0.01 USD. gen4_image at 720p: 5 credits (segment 0); gen4_image_turbo: 2
# credits (segments 1-9, made from segment 0's image: it requires reference images);
# gen4_turbo: 5 credits per second (the default; a user's /settings may pick gen4.5 or veo3.1_fast).
RUNWAY_CREDIT = 0.01
RUNWAY_IMAGE_CREDITS = 5
RUNWAY_REFERENCE_IMAGE_CREDITS = 2
RUNWAY_CLIP_CREDITS_PER_SECOND = 5
CLIP_SECONDS = 5
SEGMENTS = SEGMENT_COUNT

# OpenAI: the LLM (gpt-4.1-mini list price per 1M tokens) and gpt-4o-mini-tts (per minute).
LLM_INPUT_PER_MTOK = 0.40
LLM_OUTPUT_PER_MTOK = 1.60
LLM_TOKENS_PER_VIDEO = (6_000, 3_000)  # input, output over the calls
TTS_PER_MINUTE = 0.015
NARRATION_MINUTES = 50 / 60


def cost_per_video(*, transitions: float, invocations: float, gb_seconds: float) -> dict:
    tokens_in, tokens_out = LLM_TOKENS_PER_VIDEO
    items = {
        "Step Functions transitions": transitions * STEP_FUNCTIONS_PER_TRANSITION,
        "Lambda requests": invocations * LAMBDA_PER_REQUEST,
        "Lambda compute": gb_seconds * LAMBDA_PER_GB_SECOND,
        "S3 storage (one month)": MEDIA_GB_PER_VIDEO * S3_PER_GB_MONTH,
        "Runway images (gen4_image + 9 × gen4_image_turbo)": (
            RUNWAY_IMAGE_CREDITS + (SEGMENTS - 1) * RUNWAY_REFERENCE_IMAGE_CREDITS
        )
        * RUNWAY_CREDIT,
        "Runway clips (10 × 5 s gen4_turbo)": SEGMENTS * CLIP_SECONDS * RUNWAY_CLIP_CREDITS_PER_SECOND * RUNWAY_CREDIT,
        "OpenAI LLM (2 calls, 3 at most)": (tokens_in * LLM_INPUT_PER_MTOK + tokens_out * LLM_OUTPUT_PER_MTOK)
        / 1_000_000,
        "OpenAI speech (50 s)": NARRATION_MINUTES * TTS_PER_MINUTE,
    }
    return {"items": items, "total": sum(items.values())}
