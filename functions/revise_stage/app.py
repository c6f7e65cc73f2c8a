"""ReviseScript / RedoImages / RedoClips / ResolveRefusedImage / ResolveRefusedClip: act on the
feedback given at a gate."""

from videobot.entry import stage_handler
from videobot.pipeline import GateId
from videobot.runtime import Runtime
from videobot.stages.revise_stage import revise_stage


@stage_handler("revise_stage")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return revise_stage(rt, event["job_id"], GateId(event["stage"], event.get("segment_index")))
