"""SplitIntoSegments: one row per 5-second segment."""

from videobot import runtime
from videobot.observability import stage_handler
from videobot.stages.split_into_segments import split_into_segments


@stage_handler("split_into_segments")
def lambda_handler(event: dict, context=None) -> dict:
    return split_into_segments(runtime.current(), event["job_id"])
