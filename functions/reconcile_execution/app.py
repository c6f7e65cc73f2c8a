"""ReconcileExecution: EventBridge's "Step Functions Execution Status Change" (FAILED,
TIMED_OUT, ABORTED) for the pipeline's executions; the job row ends and the user hears once,
even when the execution's own RecordFailure or CancelJob never ran."""

from videobot import lifecycle, runtime
from videobot.observability import stage_handler


@stage_handler("reconcile_execution")
def lambda_handler(event: dict, context=None) -> dict:
    return lifecycle.reconcile_execution(runtime.current(), event.get("detail") or {})
