"""The submit / poll / resubmit cycle of a vendor task, written once for images and clips.

Each Map iteration calls `advance` from its Submit* state, then from its Check* state after
each Wait: submit if not yet submitted, otherwise poll once; store the output when the task
succeeded; resubmit a task the vendor lost (CANCELLED, INTERNAL.*, THIRD_PARTY.UNAVAILABLE) a
bounded number of times, after a wait where Runway asks for one.
A task id is stored right after the vendor accepted it, so a retried Lambda polls that task
instead of paying for another one."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from aws_lambda_powertools.metrics import MetricUnit

from videobot import usage
from videobot.data import gates, jobs, segments
from videobot.data.db import NOW
from videobot.data.rows import Job, Segment
from videobot.errors import ContentRefused, JobCancelled, PollBudgetExceeded, VendorFailed, VendorUnavailable
from videobot.notify import VendorQueued, notify_once, report_progress
from videobot.observability import count, logger, metrics_for_vendor_call, put_metric
from videobot.providers.base import CANCELLED, FAILED, RUNNING, SUCCEEDED, THROTTLED, UNFINISHED, TaskState
from videobot.runtime import Runtime

# Polling that follows the vendor's pace. A task that has run `t` seconds unfinished is checked
# again after max(interval, 15% of t): a task ending at T is seen at most max(interval, 0.15 T)
# late (interval is 2 s by default), for any T. The first check waits for 80% of the fastest of
# the model's recent tasks (PostgreSQL, vendor_usage), at most `first` seconds: tasks rarely end
# sooner, and it saves the early checks of slow models.
DETECTION_FRACTION = 0.15
LEARNED_FIRST_CHECK = 0.8
MIN_SAMPLES = 3


@dataclass(frozen=True)
class PollWaits:
    """The polling knobs of an execution's input: the shortest wait between checks (`interval`),
    and the most the first check after a submission may wait (`first`; 0: no learned wait)."""

    interval: int = 0
    first: int = 0

    @classmethod
    def from_event(cls, event: dict) -> PollWaits:
        return cls(
            interval=int(event.get("poll_interval_seconds") or 0), first=int(event.get("first_poll_seconds") or 0)
        )


def next_wait(elapsed: float, waits: PollWaits, fastest: float | None = None) -> int:
    """Whole seconds (the Wait state's SecondsPath) until the next check of a task that has
    been unfinished for `elapsed` seconds; `fastest` is the fastest recent task of its model."""
    if fastest is not None and waits.first:
        learned = min(float(waits.first), LEARNED_FIRST_CHECK * fastest)
        if elapsed < learned:
            return max(waits.interval, int(learned - elapsed))
    return max(waits.interval, int(DETECTION_FRACTION * elapsed))


def fastest_recent(task_id: str) -> float | None:
    """The fastest of the recent tasks of this task's model, when there are enough of them."""
    model = usage.model_of_task(task_id)
    seconds = usage.recent_task_seconds(model) if model else []
    return min(seconds) if len(seconds) >= MIN_SAMPLES else None


def elapsed_since(moment) -> float:
    if moment is None:
        return 0.0
    return max(0.0, (datetime.now(UTC).replace(tzinfo=None) - moment).total_seconds())


# What a failed task's code means (Runway's task-failure guidance, docs.dev.runwayml.com/errors/
# task-failures): a refusal by moderation (SAFETY.*, INPUT_PREPROCESSING.SAFETY.*) is not retried
# and names the segment; a bad output (INTERNAL.BAD_OUTPUT.*) or a cancel is resubmitted at once;
# INTERNAL, INPUT_PREPROCESSING.INTERNAL and a failure without a code "may retry, but add a
# delay", and THIRD_PARTY.UNAVAILABLE (a provider behind the model is down) is not retried at once:
# both are resubmitted after a wait (seconds below, the state machine's Wait). Each resubmit counts
# against MAX_RESUBMITS. Anything else (ASSET.INVALID, an undocumented code) fails the segment.
REFUSED, RESUBMIT, RESUBMIT_LATER, FAILS = "refused", "resubmit", "resubmit_later", "fails"
REFUSAL_PREFIXES = ("SAFETY.", "INPUT_PREPROCESSING.SAFETY.")
RESUBMIT_DELAY_SECONDS = {"THIRD_PARTY.UNAVAILABLE": 60, "INPUT_PREPROCESSING.INTERNAL": 15, "INTERNAL": 15, "": 15}


def classify_failure(state: TaskState) -> str:
    code = state.failure_code or ""
    if state.status == CANCELLED:
        return RESUBMIT
    if state.status != FAILED:
        return FAILS
    if code.startswith(REFUSAL_PREFIXES):
        return REFUSED
    if code in RESUBMIT_DELAY_SECONDS:
        return RESUBMIT_LATER
    if code.startswith("INTERNAL."):
        return RESUBMIT
    return FAILS


def _step(state: str, attempt: int, wait_seconds: int = 0) -> dict:
    """What the Choice/Wait loop reads: {"state": "done" | "waiting", "attempt", "wait_seconds"}."""
    return {"state": state, "attempt": attempt, "wait_seconds": wait_seconds}


class VendorTask:
    """One kind of vendor task. Its columns: <kind>_path, <kind>_runway_task_id,
    <kind>_submissions, <kind>_submitted_at."""

    kind: str  # "image" or "video"
    folder: str  # storage folder, and the usage stage generate_<folder>
    gate: str  # the approval stage it leads to: "images" or "videos"

    @property
    def refusal_kind(self) -> str:
        """The gate a refused segment waits at: "refused_image" or "refused_clip"."""
        return "refused_image" if self.gate == "images" else "refused_clip"

    def generator(self, rt: Runtime):
        raise NotImplementedError

    def request(self, rt: Runtime, job: Job, seg: Segment):
        """The vendor request for this segment, or None while a prerequisite is missing."""
        raise NotImplementedError

    def store(self, rt: Runtime, job_id: str, index: int, data: bytes) -> Segment:
        raise NotImplementedError

    def prerequisite_wait(self, job_id: str, waits: PollWaits) -> int:
        return waits.first

    def submit_timeout(self, settings) -> int:
        """The timeout of the Lambda that submits (template.yaml, mirrored in the settings)."""
        raise NotImplementedError

    def advance(self, rt: Runtime, job_id: str, index: int, attempt: int, waits: PollWaits) -> dict:
        """Submit if not yet submitted; otherwise poll once. The state machine's Wait state
        sleeps `wait_seconds` before the next check."""
        seg = segments.get_segment(job_id, index)
        if getattr(seg, f"{self.kind}_path"):
            return _step("done", attempt)
        task_id = getattr(seg, f"{self.kind}_runway_task_id")
        if not task_id:
            return self._submit(rt, job_id, seg, attempt, waits)
        with metrics_for_vendor_call(self.kind, "get_task"):
            state = self.generator(rt).get_task(task_id)
        running_since = None
        if state.status not in UNFINISHED:
            usage.settle_task(task_id, state.credits)
        elif state.status == RUNNING:
            running_since = usage.task_running(task_id)  # queue time (THROTTLED, PENDING) is not generation time
        elif state.status == THROTTLED:  # over Runway's tier: say the wait is its queue
            try:
                notify_once(rt.notifier, jobs.get_job(job_id), VendorQueued(self.gate))
            except Exception as exc:  # noqa: BLE001 - a notice never fails a poll
                logger.warning("queued notice not sent", extra={"error": str(exc)})
        self._note_vendor_status(rt, job_id, seg, state.status)
        if state.status == SUCCEEDED:
            self.store(rt, job_id, index, self.generator(rt).fetch_output(state.output_url))
            self._report(rt, job_id)
            return _step("done", attempt)
        if state.status in UNFINISHED:
            if attempt + 1 >= rt.settings.max_poll_attempts:
                raise PollBudgetExceeded(
                    f"segment {index + 1}: the {self.kind} was not ready after {attempt + 1} checks"
                )
            return _step("waiting", attempt + 1, self._wait(seg, task_id, state.status, running_since, waits))
        return self._failed(rt, job_id, seg, state, waits)

    def _wait(self, seg: Segment, task_id: str, status: str, running_since, waits: PollWaits) -> int:
        """The wait before the next check. A running task's age counts from when a poll first saw
        it RUNNING, and the learned first check (80% of the model's fastest task, itself measured
        from RUNNING) is placed from then: time in Runway's queue is not generation time. A task
        still queued (THROTTLED) is checked after 15% of its time in the queue."""
        submitted = getattr(seg, f"{self.kind}_submitted_at")
        # (a running_at before this submission is another task's that had the same id: ignored)
        if status == RUNNING and running_since is not None and (submitted is None or running_since >= submitted):
            return next_wait(elapsed_since(running_since), waits, fastest_recent(task_id) if waits.first else None)
        return next_wait(elapsed_since(submitted), waits)

    def _note_vendor_status(self, rt: Runtime, job_id: str, seg: Segment, status: str) -> None:
        """Keep the segment's last unfinished status (None once it ended); when it enters or
        leaves Runway's queue, the progress message says how many wait there (a success
        reports its own progress)."""
        stored = status if status in UNFINISHED else None
        if seg.vendor_status == stored:
            return
        segments.update_segment(job_id, seg.segment_index, vendor_status=stored)
        if stored == THROTTLED:  # Runway's queue, for the operator's dashboard
            count("RunwayTasksQueued", kind=self.kind)
        elif seg.vendor_status == THROTTLED:
            submitted = getattr(seg, f"{self.kind}_submitted_at")
            put_metric("RunwayQueueSeconds", elapsed_since(submitted), MetricUnit.Seconds, kind=self.kind)
        if THROTTLED in (seg.vendor_status, stored) and status != SUCCEEDED:
            self._report(rt, job_id)

    def _report(self, rt: Runtime, job_id: str) -> None:
        counts = segments.segment_counts(job_id)
        report_progress(
            rt.notifier, jobs.get_job(job_id), self.gate, counts[self.gate], counts["segments"], queued=counts["queued"]
        )

    def _submit(self, rt: Runtime, job_id: str, seg: Segment, attempt: int, waits: PollWaits) -> dict:
        started = time.monotonic()
        job = jobs.get_job(job_id)
        if job.status in jobs.TERMINAL_STATUSES:  # e.g. a sibling segment failed the job: pay nothing more
            raise JobCancelled(f"job {job_id} is {job.status}")
        request = self.request(rt, job, seg)
        if request is None:  # a prerequisite (segment 0's image) is still being made
            return _step("waiting", attempt, self.prerequisite_wait(job_id, waits))
        # The create's retries end in time for the rest of this invocation.
        request = replace(
            request, deadline=started + self.submit_timeout(rt.settings) - rt.settings.submit_reserve_seconds
        )
        index, submissions = seg.segment_index, getattr(seg, f"{self.kind}_submissions")
        generator = self.generator(rt)
        # Count the submission before paying for it; store the task id right after.
        segments.update_segment(job_id, index, **{f"{self.kind}_submissions": submissions + 1})
        try:
            with metrics_for_vendor_call(self.kind, "submit"):
                task_id = generator.submit(request)
        except VendorUnavailable:  # refused before a task was started (429, 5xx): not a submission
            segments.update_segment(job_id, index, **{f"{self.kind}_submissions": submissions})
            raise
        try:
            segments.update_segment(
                job_id, index, **{f"{self.kind}_runway_task_id": task_id, f"{self.kind}_submitted_at": NOW}
            )
        except JobCancelled:  # cancelled (rows cleared) while we submitted: stop this task too
            generator.cancel(task_id)
            raise
        if jobs.get_job(job_id).status in jobs.TERMINAL_STATUSES:  # it ended while we submitted:
            generator.cancel(task_id)  # the others were stopped then
        usage.record_task(job_id, f"generate_{self.folder}", index, task_id, generator.estimate(request))
        logger.info("vendor task submitted", extra={"kind": self.kind, "task_id": task_id})
        result = self.advance(rt, job_id, index, attempt, waits)  # a fast vendor may be done
        if result["state"] == "waiting" and segments.get_segment(job_id, index).vendor_status != THROTTLED:
            # placed from now; a task Runway queued (THROTTLED) gets its first check once it runs
            result["wait_seconds"] = next_wait(0.0, waits, fastest_recent(task_id) if waits.first else None)
        return result

    def _failed(self, rt: Runtime, job_id: str, seg: Segment, state: TaskState, waits: PollWaits) -> dict:
        index = seg.segment_index
        code = state.failure_code or ""
        outcome = classify_failure(state)
        if outcome == REFUSED:
            segments.update_segment(job_id, index, status="failed", error_message=code)
            # The other segments are paid for: this one pauses at its own gate (AwaitRefused*) for a
            # new prompt, a retry or a cancel, at most MAX_GATE_REVISIONS times; then the job fails.
            gate = gates.get_gate(job_id, jobs.refusal_stage(self.refusal_kind, index))
            if (gate.revisions if gate else 0) < rt.settings.max_gate_revisions:
                logger.warning("vendor refused a segment", extra={"kind": self.kind, "code": code, "segment": index})
                return _step("refused", 0)
            raise ContentRefused(
                f"segment {index + 1}: the {self.kind} was refused by moderation ({code})", segment_index=index
            )
        if (
            outcome in (RESUBMIT, RESUBMIT_LATER)
            and getattr(seg, f"{self.kind}_submissions") <= rt.settings.max_resubmits
        ):
            logger.warning("vendor task failed, resubmitting", extra={"kind": self.kind, "code": code})
            segments.update_segment(job_id, index, **{f"{self.kind}_runway_task_id": None, "vendor_status": None})
            if outcome == RESUBMIT_LATER:  # the next check, after the wait, submits it (no task id)
                return _step("waiting", 0, max(waits.interval, RESUBMIT_DELAY_SECONDS[code]))
            return self._submit(rt, job_id, segments.get_segment(job_id, index), 0, waits)
        segments.update_segment(job_id, index, status="failed", error_message=code or state.status)
        raise VendorFailed(f"segment {index + 1}: the {self.kind} failed ({code or state.status})")
