"""ReconcileExecution, the reconciler. EventBridge's "Step Functions Execution Status Change"
(FAILED, TIMED_OUT, ABORTED) for the pipeline's executions: the job row ends and the user hears
once, even when the execution's own RecordFailure or CancelJob never ran. Its schedule (a
"Scheduled Event" every minute): the sweep that asks again the gate questions Telegram did not
take and tells the users not yet told how their job ended."""

from videobot import lifecycle
from videobot.entry import stage_handler
from videobot.runtime import Runtime

SCHEDULED = "Scheduled Event"


@stage_handler("reconcile_execution")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    if event.get("detail-type") == SCHEDULED:
        return lifecycle.reconcile_messages(rt)
    return lifecycle.reconcile_execution(rt, event.get("detail") or {})
