"""AwaitScriptApproval / AwaitImageApproval / AwaitVideoApproval / AwaitRefusedImage / AwaitRefusedClip:
store the gate's task token and ask the user."""

from videobot import runtime
from videobot.observability import stage_handler
from videobot.pipeline import GateId
from videobot.stages.request_approval import request_approval


@stage_handler("request_approval")
def lambda_handler(event: dict, context=None) -> dict:
    return request_approval(
        runtime.current(),
        event["job_id"],
        GateId(event["stage"], event.get("segment_index")),
        event["task_token"],
    )
