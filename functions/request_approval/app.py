"""AwaitScriptApproval / AwaitImageApproval / AwaitVideoApproval / AwaitRefusedImage / AwaitRefusedClip:
store the gate's task token and ask the user."""

from videobot.entry import stage_handler
from videobot.pipeline import GateId
from videobot.runtime import Runtime
from videobot.stages.request_approval import request_approval


@stage_handler("request_approval")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    gate = GateId(event["stage"], event.get("segment_index"))
    return request_approval(rt, event["job_id"], gate, event["task_token"])
