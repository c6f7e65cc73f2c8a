"""The submit / poll / resubmit cycle of a vendor task, written once for images and clips.

Each Map iteration calls `advance` from its Submit* state, then from its Check* state after
each Wait: submit if not yet submitted, otherwise poll once; store the output when the task
succeeded; resubmit a task the vendor lost (CANCELLED, INTERNAL.*, THIRD_PARTY.UNAVAILABLE) a
bounded number of times, after a wait where Runway asks for one.
A task id is stored right after the vendor accepted it (the ledger's row first, then the
segment's), so a retried Lambda polls that task instead of paying for another one: one whose
connection was lost between the two finds it in the ledger."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from aws_lambda_powertools.metrics import MetricUnit

from videobot import usage
from videobot.data import gates, jobs, segments
from videobot.data.db import Database
from videobot.data.rows import Job, Segment
from videobot.errors import ContentRefused, JobCancelled, PollBudgetExceeded, VendorFailed, VendorUnavailable
from videobot.notify import VendorQueued, notify_once, report_progress
from videobot.observability import count, logger, metrics_for_vendor_call, put_metric
from videobot.pipeline import TERMINAL_STATUSES, ExecutionSettings, GateId, MediaKind, SegmentStatus
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


@dataclass(frozen=True)
class TaskCheck:
    """One invocation's knobs, from the execution's settings (its event): the waits, the checks
    before a task is given up (MAX_POLL_ATTEMPTS), and the time.monotonic() by which the
    invocation ends (its Lambda context's remaining time; None: no bound)."""

    waits: PollWaits
    max_attempts: int
    deadline: float | None = None

    @classmethod
    def of(cls, execution: ExecutionSettings, kind: MediaKind, deadline: float | None = None) -> TaskCheck:
        waits = PollWaits(interval=execution.poll_interval_seconds, first=execution.first_poll_seconds(kind))
        return cls(waits, execution.max_poll_attempts, deadline)


def next_wait(elapsed: float, waits: PollWaits, fastest: float | None = None) -> int:
    """Whole seconds (the Wait state's SecondsPath) until the next check of a task that has
    been unfinished for `elapsed` seconds; `fastest` is the fastest recent task of its model."""
    if fastest is not None and waits.first:
        learned = min(float(waits.first), LEARNED_FIRST_CHECK * fastest)
        if elapsed < learned:
            return max(waits.interval, int(learned - elapsed))
    return max(waits.interval, int(DETECTION_FRACTION * elapsed))


def fastest_recent(db: Database, task_id: str) -> float | None:
    """The fastest of the recent tasks of this task's model, when there are enough of them."""
    model = usage.model_of_task(db, task_id)
    seconds = usage.recent_task_seconds(db, model) if model else []
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
    """What the Choice/Wait loop of statemachine/segment_media.asl.json reads: {"state": "done" |
    "waiting" | "refused" | "blocked", "attempt", "wait_seconds"}."""
    return {"state": state, "attempt": attempt, "wait_seconds": wait_seconds}


class JobRow:
    """The job's row for one advance: read on first use, then kept (a plain RUNNING poll never
    reads it; a success or a queue notice reads it once)."""

    def __init__(self, rt: Runtime, job_id: str):
        self.rt, self.id = rt, job_id
        self._row: Job | None = None

    def __call__(self) -> Job:
        if self._row is None:
            self._row = jobs.get_job(self.rt.db, self.id)
        return self._row


class VendorTask:
    """The vendor task of one kind of media (videobot.pipeline: the segment's image or clip)."""

    media: MediaKind

    def generator(self, rt: Runtime):
        raise NotImplementedError

    def request(self, rt: Runtime, job: Job, seg: Segment):
        """The vendor request for this segment, or None while a prerequisite is missing (segment
        0's image, the reference of the others): the segment is then "blocked", its child
        execution ends, and the Map makes it again once its prerequisite exists."""
        raise NotImplementedError

    def store(self, rt: Runtime, job: JobRow, seg: Segment, data: bytes) -> Segment:
        raise NotImplementedError

    def planned_request(self, rt: Runtime, job: Job, seg: Segment):
        """The request this segment's task will be, as far as it is known before the Map
        starts (to price and count it)."""
        raise NotImplementedError

    def task_call(self, rt: Runtime, job_id: str, index: int, submission: int, estimate: dict):
        """The ledger's call for one task, keyed by its segment, its round (a redo at the gate or
        a refused segment's retry starts the submissions again from 1) and its submission: a
        retried Lambda finds its reservation, a redo never finds the first round's."""
        rounds = 0
        for gate_id in (GateId(self.media.gate), GateId.refused(self.media, index)):
            gate = gates.get_gate(rt.db, job_id, gate_id)
            rounds += gate.revisions if gate else 0
        return usage.task_call(
            job_id, self.media.usage_stage, index, f"r{rounds}.{submission}", estimate, self.media.column
        )

    def reserve_generations(self, rt: Runtime, job_id: str) -> int:
        """Before the Map starts: reserve every task it will submit (the segments without their
        media) against the vendor model's daily cap and the budgets, at once. DailyCapReached
        (with when the cap frees up) or BudgetExceeded, and nothing is started, when they do not
        fit. The submits find these reservations (same keys). Returns how many were reserved."""
        job, generator = jobs.get_job(rt.db, job_id), self.generator(rt)
        calls = []
        for seg in segments.get_segments(rt.db, job_id):
            media = seg.media(self.media)
            if media.path or media.task_id:
                continue
            estimate = generator.estimate(self.planned_request(rt, job, seg))
            calls.append(self.task_call(rt, job_id, seg.segment_index, media.submissions + 1, estimate))
        usage.reserve_generations(rt.db, rt.settings, calls)
        return len(calls)

    def submit(
        self, rt: Runtime, job_id: str, index: int, execution: ExecutionSettings, deadline: float | None = None
    ) -> dict:
        """Submit<Kind>: the segment's task started (or, if it was, checked); `deadline` is when
        the invocation ends (time.monotonic()), so a create never outlives it."""
        return self.advance(rt, job_id, index, 0, TaskCheck.of(execution, self.media, deadline))

    def check(
        self,
        rt: Runtime,
        job_id: str,
        index: int,
        attempt: int,
        execution: ExecutionSettings,
        deadline: float | None = None,
    ) -> dict:
        """Check<Kind>: the segment's task polled once (or resubmitted, or stored)."""
        return self.advance(rt, job_id, index, attempt, TaskCheck.of(execution, self.media, deadline))

    def advance(self, rt: Runtime, job_id: str, index: int, attempt: int, check: TaskCheck) -> dict:
        """Submit if not yet submitted; otherwise poll once. The state machine's Wait state
        sleeps `wait_seconds` before the next check."""
        seg = segments.get_segment(rt.db, job_id, index)
        media = seg.media(self.media)
        if media.path:
            return _step("done", attempt)
        if not media.task_id:
            return self._submit(rt, job_id, seg, attempt, check)
        return self._poll(rt, JobRow(rt, job_id), seg, media.task_id, attempt, check)[0]

    def _poll(
        self, rt: Runtime, job: JobRow, seg: Segment, task_id: str, attempt: int, check: TaskCheck
    ) -> tuple[dict, str]:
        """Check the task once: the step for the state machine, and the vendor's status."""
        with metrics_for_vendor_call(self.media.column, "get_task"):
            state = self.generator(rt).get_task(task_id)
        running_since = self._note_state(rt, job, task_id, state.status, state.credits)
        self._note_vendor_status(rt, job, seg, state.status)
        if state.status == SUCCEEDED:
            self.store(rt, job, seg, self.generator(rt).fetch_output(state.output_url))
            self._report(rt, job)
            return _step("done", attempt), state.status
        if state.status in UNFINISHED:
            if attempt + 1 >= check.max_attempts:
                raise PollBudgetExceeded(
                    f"segment {seg.segment_index + 1}: the {self.media.column} was not ready after {attempt + 1} checks"
                )
            wait = self._wait(rt, seg, task_id, state.status, running_since, check.waits)
            return _step("waiting", attempt + 1, wait), state.status
        return self._failed(rt, job.id, seg, state, check), state.status

    def _note_state(self, rt: Runtime, job: JobRow, task_id: str, status: str, credits: float | None):
        """What a poll learned: a task that ended is settled at its reported cost; a running one
        notes when it left the queue (returned: its generation's start); a queued one says once
        that the wait is Runway's queue."""
        if status not in UNFINISHED:
            usage.settle_task(rt.db, job.id, task_id, credits)
        elif status == RUNNING:
            return usage.task_running(rt.db, job.id, task_id)  # queue time (THROTTLED, PENDING) is not generation time
        elif status == THROTTLED:  # over Runway's tier: say the wait is its queue
            try:
                notify_once(rt.db, rt.notifier, job(), VendorQueued(self.media.gate))
            except Exception as exc:  # noqa: BLE001 - a notice never fails a poll
                logger.warning("queued notice not sent", extra={"error": str(exc)})
        return None

    def _wait(self, rt: Runtime, seg: Segment, task_id: str, status: str, running_since, waits: PollWaits) -> int:
        """The wait before the next check. A running task's age counts from when a poll first saw
        it RUNNING, and the learned first check (80% of the model's fastest task, itself measured
        from RUNNING) is placed from then: time in Runway's queue is not generation time. A task
        still queued (THROTTLED) is checked after 15% of its time in the queue."""
        submitted = seg.media(self.media).submitted_at
        # (a running_at before this submission is another task's that had the same id: ignored)
        if status == RUNNING and running_since is not None and (submitted is None or running_since >= submitted):
            return next_wait(
                elapsed_since(running_since), waits, fastest_recent(rt.db, task_id) if waits.first else None
            )
        return next_wait(elapsed_since(submitted), waits)

    def _note_vendor_status(self, rt: Runtime, job: JobRow, seg: Segment, status: str) -> None:
        """Keep the segment's last unfinished status (None once it ended); when it enters or
        leaves Runway's queue, the progress message says how many wait there (a success
        reports its own progress)."""
        stored = status if status in UNFINISHED else None
        if seg.vendor_status == stored:
            return
        segments.update_segment(rt.db, job.id, seg.segment_index, vendor_status=stored)
        if stored == THROTTLED:  # Runway's queue, for the operator's dashboard
            count("RunwayTasksQueued", kind=self.media.column)
        elif seg.vendor_status == THROTTLED:
            submitted = seg.media(self.media).submitted_at
            put_metric("RunwayQueueSeconds", elapsed_since(submitted), MetricUnit.Seconds, kind=self.media.column)
        if THROTTLED in (seg.vendor_status, stored) and status != SUCCEEDED:
            self._report(rt, job)

    def _report(self, rt: Runtime, job: JobRow) -> None:
        counts, gate = segments.segment_counts(rt.db, job.id), self.media.gate
        report_progress(rt.notifier, job(), gate, counts[gate], counts["segments"], queued=counts["queued"])

    def _submit(self, rt: Runtime, job_id: str, seg: Segment, attempt: int, check: TaskCheck) -> dict:
        # read here, not earlier: a sibling segment may have failed the job since (pay nothing more)
        job = jobs.get_job(rt.db, job_id)
        if job.status in TERMINAL_STATUSES:
            raise JobCancelled(f"job {job_id} is {job.status}")
        request = self.request(rt, job, seg)
        if request is None:  # a prerequisite (segment 0's image) is not made yet: no slot waits for it
            return _step("blocked", attempt)
        if check.deadline is not None:  # the create's retries end in time for the rest of this invocation
            request = replace(request, deadline=check.deadline - rt.settings.pipeline.submit_reserve_seconds)
        generator = self.generator(rt)
        task_id, seg = self._create(rt, generator, job_id, seg, request)
        # read again after the create: the job may have ended while we submitted
        if jobs.get_job(rt.db, job_id).status in TERMINAL_STATUSES:
            generator.cancel(task_id)  # the others were stopped then
        logger.info("vendor task submitted", extra={"kind": self.media.column, "task_id": task_id})
        result, status = self._poll(rt, JobRow(rt, job_id), seg, task_id, attempt, check)  # a fast vendor may be done
        if result["state"] == "waiting" and status != THROTTLED:
            # placed from now; a task Runway queued (THROTTLED) gets its first check once it runs
            waits = check.waits
            result["wait_seconds"] = next_wait(0.0, waits, fastest_recent(rt.db, task_id) if waits.first else None)
        return result

    def _create(self, rt: Runtime, generator, job_id: str, seg: Segment, request) -> tuple[str, Segment]:
        """Pay for the task: the submission counted before, its id stored right after (a retried
        Lambda then polls it instead of paying again). Returns the task id and the segment row."""
        index, submissions = seg.segment_index, seg.media(self.media).submissions
        estimate = generator.estimate(request)
        if submissions:
            # a retried Lambda: the last submission may have been accepted (paid, its id in the
            # ledger) when the connection was lost, before the segment recorded it: poll that one
            previous = self.task_call(rt, job_id, index, submissions, estimate)
            accepted = usage.accepted_task(rt.db, previous.key)
            if accepted:
                logger.warning("vendor task accepted but not recorded: recorded now", extra={"task_id": accepted})
                return accepted, self._record(rt, generator, job_id, index, accepted)
        call = self.task_call(rt, job_id, index, submissions + 1, estimate)
        segments.count_submission(rt.db, job_id, index, self.media, submissions + 1)
        try:
            # reserved before the create (the stage's first ones before its Map started), the
            # task's id attached after it; a poll that sees it end settles it at its cost
            with (
                usage.paid_call(rt.db, rt.settings, call) as bill,
                metrics_for_vendor_call(self.media.column, "submit"),
            ):
                task_id = generator.submit(request)
                bill.task(task_id)
        except VendorUnavailable:  # refused before a task was started (429, 5xx): not a submission
            segments.count_submission(rt.db, job_id, index, self.media, submissions)
            raise
        return task_id, self._record(rt, generator, job_id, index, task_id)

    def _record(self, rt: Runtime, generator, job_id: str, index: int, task_id: str) -> Segment:
        try:
            return segments.record_task(rt.db, job_id, index, self.media, task_id)
        except JobCancelled:  # cancelled (rows cleared) while we submitted: stop this task too
            generator.cancel(task_id)
            raise

    def _failed(self, rt: Runtime, job_id: str, seg: Segment, state: TaskState, check: TaskCheck) -> dict:
        index = seg.segment_index
        code = state.failure_code or ""
        outcome = classify_failure(state)
        if outcome == REFUSED:
            segments.update_segment(rt.db, job_id, index, status=SegmentStatus.FAILED, error_message=code)
            # The other segments are paid for: this one pauses at its own gate (AwaitRefused*) for a
            # new prompt, a retry or a cancel, at most MAX_GATE_REVISIONS times; then the job fails.
            gate = gates.get_gate(rt.db, job_id, GateId.refused(self.media, index))
            if (gate.revisions if gate else 0) < rt.settings.pipeline.max_gate_revisions:
                logger.warning(
                    "vendor refused a segment", extra={"kind": self.media.column, "code": code, "segment": index}
                )
                return _step("refused", 0)
            raise ContentRefused(
                f"segment {index + 1}: the {self.media.column} was refused by moderation ({code})", segment_index=index
            )
        if (
            outcome in (RESUBMIT, RESUBMIT_LATER)
            and seg.media(self.media).submissions <= rt.settings.pipeline.max_resubmits
        ):
            logger.warning("vendor task failed, resubmitting", extra={"kind": self.media.column, "code": code})
            seg = segments.forget_task(rt.db, job_id, index, self.media)
            if outcome == RESUBMIT_LATER:  # the next check, after the wait, submits it (no task id)
                return _step("waiting", 0, max(check.waits.interval, RESUBMIT_DELAY_SECONDS[code]))
            return self._submit(rt, job_id, seg, 0, check)
        segments.update_segment(rt.db, job_id, index, status=SegmentStatus.FAILED, error_message=code or state.status)
        raise VendorFailed(f"segment {index + 1}: the {self.media.column} failed ({code or state.status})")
