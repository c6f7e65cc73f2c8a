"""AwaitScriptApproval / AwaitImageApproval / AwaitVideoApproval: store the task token, ask the user (seed stages 3, 7, 10)."""

from videobot import pipeline
from videobot.observability import stage_handler


@stage_handler("request_approval")
def lambda_handler(event: dict, context=None) -> dict:
    return pipeline.request_approval(event["job_id"], event["stage"], event["task_token"])
