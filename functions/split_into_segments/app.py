"""SplitIntoSegments: one row per 5-second segment."""

from videobot.entry import stage_handler
from videobot.runtime import Runtime
from videobot.stages.split_into_segments import split_into_segments


@stage_handler("split_into_segments")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return split_into_segments(rt, event["job_id"])
