"""ReconcileExecution: EventBridge's "Step Functions Execution Status Change" (FAILED,
TIMED_OUT, ABORTED) for the pipeline's executions; the job row ends and the user hears once,
even when the execution's own RecordFailure or CancelJob never ran."""

from videobot import lifecycle
from videobot.entry import stage_handler
from videobot.runtime import Runtime


@stage_handler("reconcile_execution")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    return lifecycle.reconcile_execution(rt, event.get("detail") or {})
