"""ReconcileExecution, the reconciler. EventBridge's "Step Functions Execution Status Change"
(FAILED, TIMED_OUT, ABORTED) for the pipeline's executions: the job row ends and the user hears
once, even when the execution's own RecordFailure or CancelJob never ran. Its schedule (a
"Scheduled Event" every minute): the sweep that asks again the gate questions Telegram did not
take and tells the users not yet told how their job ended, forgets the Telegram update ids
older than their retention (TELEGRAM_UPDATES_RETENTION_HOURS) and the budget's 5-minute spend
slots older than the 24 hours a budget check reads."""

from videobot import lifecycle
from videobot.data import ledger, updates
from videobot.entry import stage_handler
from videobot.runtime import Runtime

SCHEDULED = "Scheduled Event"


@stage_handler("reconcile_execution")
def lambda_handler(rt: Runtime, event: dict, context=None) -> dict:
    if event.get("detail-type") == SCHEDULED:
        purged = updates.purge_updates(rt.db, rt.settings.telegram.updates_retention_hours)
        slots = ledger.purge_slots(rt.db)
        return {**lifecycle.reconcile_messages(rt), "purged_updates": purged, "purged_spend_slots": slots}
    return lifecycle.reconcile_execution(rt, event.get("detail") or {})
