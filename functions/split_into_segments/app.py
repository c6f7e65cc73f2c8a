"""SplitIntoSegments: one row per 5-second segment (seed stage 4)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("split_into_segments")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.split_into_segments(event["job_id"])
