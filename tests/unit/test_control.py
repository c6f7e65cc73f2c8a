"""Approving and rejecting a gate: the decision is committed before Step Functions hears of
it (the next stage, or CancelJob, must read it), and a failed call reopens the gate."""

from __future__ import annotations

import itertools
import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import new_job, offered, replace_part
from videobot import control, preferences, usage
from videobot.data import gates, jobs
from videobot.errors import ConfigurationError, ControlUnavailable, StartFailed, VendorUnavailable
from videobot.pipeline import GateId


class RecordingStepFunctions:
    """Stands in for the boto3 client; at each call it reads the gate from another
    connection, as the state machine's next Lambda would."""

    def __init__(self, db, job_id: str, stage: str, error_code: str | Exception | None = None):
        self.db, self.job_id, self.stage, self.error_code = db, job_id, stage, error_code
        self.seen: list[dict] = []

    def _call(self, name: str, **kwargs):
        self.seen.append(
            {
                "call": name,
                "kwargs": kwargs,
                "gate": gates.get_gate(self.db, self.job_id, GateId.parse(self.stage)),
                "job": jobs.get_job(self.db, self.job_id),
            }
        )
        if isinstance(self.error_code, Exception):
            raise self.error_code
        if self.error_code:
            raise ClientError({"Error": {"Code": self.error_code, "Message": "x"}}, name)
        return {}

    def send_task_success(self, **kwargs):
        return self._call("SendTaskSuccess", **kwargs)

    def send_task_failure(self, **kwargs):
        return self._call("SendTaskFailure", **kwargs)


@pytest.fixture
def gate(rt, db, monkeypatch):
    job = new_job(db)
    jobs.update_job(db, job["id"], status="awaiting_script_approval")
    gates.open_gate(db, job["id"], GateId("script"), "token-1")

    def install(error_code=None, stage="script"):
        if stage != "script":
            gates.open_gate(db, job["id"], GateId.parse(stage), "token-1")
        fake = RecordingStepFunctions(db, job["id"], stage, error_code)
        replace_part(monkeypatch, rt, "sfn", fake)
        return job, fake

    return install


@pytest.mark.parametrize("approve", [True, False])
def test_the_decision_is_visible_before_step_functions_is_told(rt, gate, approve):
    job, sfn = gate()
    result = control.decide(rt, job["id"], GateId("script"), approve=approve)
    assert result.done and result.reason == ("approved" if approve else "rejected")
    (call,) = sfn.seen
    assert call["gate"]["decision"] == result.reason and call["gate"]["decided_at"] is not None
    if approve:
        assert call["job"]["status"] == "script_approved" and call["job"]["script_approved"] == 1
    # A second tap changes nothing and calls nobody.
    assert control.decide(rt, job["id"], GateId("script"), approve=approve).reason == "not_waiting"
    assert len(sfn.seen) == 1


def test_a_failed_call_reopens_the_gate(rt, db, gate):
    job, _sfn = gate("ThrottlingException")
    with pytest.raises(ControlUnavailable):  # throttled past the retries: the user is asked to try again
        control.decide(rt, job["id"], GateId("script"), approve=True)
    assert gates.get_gate(db, job["id"], GateId("script"))["decided_at"] is None
    row = jobs.get_job(db, job["id"])
    assert row["status"] == "awaiting_script_approval" and row["script_approved"] == 0


def test_an_expired_token_abandons_the_gate(rt, db, gate):
    job, _sfn = gate("TaskTimedOut")
    assert control.decide(rt, job["id"], GateId("script"), approve=False).reason == "expired"
    assert gates.get_gate(db, job["id"], GateId("script"))["decision"] == "abandoned"


ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:videobot"


class StartingStepFunctions:
    """Records StartExecution; `error` (a ClientError code, or an exception) fails it, and
    `exists` says whether DescribeExecution then finds the execution (a lost answer)."""

    def __init__(self, error=None, exists=False):
        self.error, self.exists, self.started, self.described = error, exists, [], []

    def start_execution(self, **kwargs):
        self.started.append(kwargs)
        if isinstance(self.error, str):
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "StartExecution")
        if self.error:
            raise self.error
        return {"executionArn": f"{ARN.replace(':stateMachine:', ':execution:')}:{kwargs['name']}-given"}

    def describe_execution(self, executionArn):
        self.described.append(executionArn)
        if not self.exists:
            raise ClientError({"Error": {"Code": "ExecutionDoesNotExist", "Message": "x"}}, "DescribeExecution")
        return {"executionArn": executionArn}


@pytest.fixture
def starting(rt, monkeypatch):
    def install(**kwargs):
        fake = StartingStepFunctions(**kwargs)
        replace_part(monkeypatch, rt, "sfn", fake)
        return rt.with_env(STATE_MACHINE_ARN=ARN), fake

    return install


_chats = itertools.count(5_000_100_001)


@pytest.fixture
def chat() -> int:
    return next(_chats)


def start(rt, chat: int, **kwargs):
    return control.start_job(rt, user_id=chat, chat_id=chat, prompt="Реклама кофе", **kwargs)


def test_a_job_starts_one_execution_named_after_it_with_its_settings(starting, db, chat, monkeypatch):
    rt, sfn = starting()
    counted = []
    monkeypatch.setattr(control, "count", lambda name, *args, **kwargs: counted.append(name))
    job, created = start(rt, chat, aspect_ratio="9:16", source_update_id=chat, overrides={"max_concurrency": 3})
    (call,) = sfn.started
    assert created and call["stateMachineArn"] == ARN and call["name"] == job.id
    sent = json.loads(call["input"])
    assert sent["job_id"] == job.id and sent["settings"]["max_concurrency"] == 3 and "voice" not in sent
    assert job.execution_arn == f"{ARN.replace(':stateMachine:', ':execution:')}:{job.id}-given"
    assert jobs.get_job(db, job.id).aspect_ratio == "9:16"
    again, created = start(rt, chat, source_update_id=chat)  # the same update delivered again
    assert (again.id, created, len(sfn.started)) == (job.id, False, 1)
    assert counted == ["JobsStarted"]  # the operator's metric, once


def test_a_voice_topic_asks_the_execution_to_transcribe_it(starting, chat):
    rt, sfn = starting()
    start(rt, chat, voice_file_id="voice-1")
    assert json.loads(sfn.started[0]["input"])["voice"] is True


def test_no_state_machine_is_a_configuration_error(rt, db):
    with pytest.raises(ConfigurationError, match=r"^STATE_MACHINE_ARN is not set$"):
        control.start_job(rt.with_env(STATE_MACHINE_ARN=None), user_id=1, chat_id=1, prompt="x")


@pytest.mark.parametrize("error", ["ThrottlingException", ConnectionError("reset")])
def test_a_start_that_failed_removes_the_job(starting, db, chat, error):
    rt, sfn = starting(error=error)
    with pytest.raises(
        StartFailed,
        match=rf"^StartExecution failed: {type(error).__name__ if not isinstance(error, str) else 'ClientError'}$",
    ):
        start(rt, chat)
    job_id = sfn.started[0]["name"]
    assert sfn.described == [f"{ARN.replace(':stateMachine:', ':execution:')}:{job_id}"]
    assert jobs.active_job_for_chat(db, chat) is None


@pytest.mark.parametrize(("error", "exists"), [("ExecutionAlreadyExists", False), (ConnectionError("lost"), True)])
def test_a_start_that_happened_after_all_keeps_the_job(starting, db, chat, error, exists):
    rt, sfn = starting(error=error, exists=exists)
    job, created = start(rt, chat)
    arn = f"{ARN.replace(':stateMachine:', ':execution:')}:{job.id}"
    assert created and job.execution_arn == arn
    assert sfn.described == ([] if error == "ExecutionAlreadyExists" else [arn])  # asked only when in doubt
    assert jobs.active_job_for_chat(db, chat).id == job.id


# What Step Functions is sent, and what the webhook is told, at each outcome of a tap.

LIMIT = 5  # MAX_GATE_REVISIONS' default


def test_an_approval_resumes_the_gate_with_its_stage(rt, db, gate):
    job, sfn = gate()
    assert control.decide(rt, job["id"], GateId("script"), approve=True) == control.Decision(
        True, "approved", "script", 0, LIMIT
    )
    (call,) = sfn.seen
    assert (call["call"], call["kwargs"]["taskToken"]) == ("SendTaskSuccess", "token-1")
    assert json.loads(call["kwargs"]["output"]) == {"approved": True, "stage": "script"}
    assert gates.get_gate(db, job["id"], GateId("script")).resumed_at is not None  # confirmed


def test_a_rejection_fails_the_gates_task_as_the_state_machine_expects(rt, db, gate):
    job, sfn = gate()
    assert control.decide(rt, job["id"], GateId("script"), approve=False) == control.Decision(
        True, "rejected", "script", 0, LIMIT
    )
    (call,) = sfn.seen
    assert call["call"] == "SendTaskFailure"
    assert call["kwargs"] == {"taskToken": "token-1", "error": "Rejected", "cause": "rejected at the script approval"}
    assert gates.get_gate(db, job["id"], GateId("script")).resumed_at is not None


def test_a_tap_at_no_open_gate_is_answered_not_waiting(rt, db, gate):
    job, sfn = gate()
    for round_ in (None, 0):
        assert control.decide(rt, job["id"], GateId("images"), approve=True, round_=round_) == control.Decision(
            False, "not_waiting", "images", None, LIMIT
        )
    control.decide(rt, job["id"], GateId("script"), approve=True)
    assert control.decide(rt, job["id"], GateId("script"), approve=False, round_=0).reason == "not_waiting"
    assert len(sfn.seen) == 1


def test_a_button_of_an_earlier_round_decides_nothing(rt, db, gate):
    job, sfn = gate()
    db.execute(f"UPDATE {gates.GATES} SET revisions = 1 WHERE job_id = %s", (job["id"],))
    assert control.decide(rt, job["id"], GateId("script"), approve=True, round_=0) == control.Decision(
        False, "stale_round", "script", 1, LIMIT
    )
    assert sfn.seen == [] and gates.get_gate(db, job["id"], GateId("script")).decided_at is None
    assert control.decide(rt, job["id"], GateId("script"), approve=True, round_=1).reason == "approved"


def test_an_expired_token_is_answered_expired_with_the_stage(rt, db, gate):
    job, _sfn = gate("TaskTimedOut")
    assert control.decide(rt, job["id"], GateId("script"), approve=True) == control.Decision(
        False, "expired", "script", 0, LIMIT
    )
    assert gates.get_gate(db, job["id"], GateId("script")).decision == "abandoned"


def test_a_decision_whose_answer_was_lost_is_known_to_have_landed_on_the_next_tap(rt, db, gate, monkeypatch):
    job, sfn = gate(ConnectionError("reset"))
    with pytest.raises(VendorUnavailable, match="Step Functions did not answer: ConnectionError"):
        control.decide(rt, job["id"], GateId("script"), approve=True)
    row = gates.get_gate(db, job["id"], GateId("script"))
    assert (row.decided_at, row.unknown_decision) == (None, "approved")
    sfn.error_code = "TaskTimedOut"  # the first one had landed: the token is spent
    assert control.decide(rt, job["id"], GateId("script"), approve=True) == control.Decision(
        True, "approved", "script", 0, LIMIT
    )
    assert jobs.get_job(db, job["id"]).status == "script_approved"


def test_approving_a_refused_segment_tries_it_again(rt, db, gate):
    job, sfn = gate(stage="refused_clip_6")
    refused = GateId.parse("refused_clip_6")
    assert control.decide(rt, job["id"], refused, approve=True, round_=1).reason == "stale_round"
    assert control.decide(rt, job["id"], refused, approve=True, round_=0) == control.Decision(
        True, "revised", "refused_clip_6", 1, LIMIT
    )
    (call,) = sfn.seen
    assert json.loads(call["kwargs"]["output"]) == {
        "approved": False,
        "stage": "refused_clip_6",
        "revise": {"feedback": None, "segments": []},
    }


def test_a_revision_sends_the_words_and_segments_and_counts_its_round(rt, db, gate):
    job, sfn = gate(stage="images")
    images = GateId("images")
    assert control.revise(rt, job["id"], images, feedback="светлее", segments=[2, 7], round_=0) == control.Decision(
        True, "revised", "images", 1, LIMIT
    )
    (call,) = sfn.seen
    assert call["kwargs"]["taskToken"] == "token-1"
    assert json.loads(call["kwargs"]["output"]) == {
        "approved": False,
        "stage": "images",
        "revise": {"feedback": "светлее", "segments": [2, 7]},
    }
    assert gates.get_gate(db, job["id"], images).resumed_at is not None
    assert control.revise(rt, job["id"], images, feedback="ещё") == control.Decision(
        False, "not_waiting", "images", None, LIMIT
    )
    gates.open_gate(db, job["id"], images, "token-2")
    db.execute(f"UPDATE {gates.GATES} SET revisions = %s WHERE job_id = %s AND stage = 'images'", (LIMIT, job["id"]))
    assert control.revise(rt, job["id"], images, feedback="ещё") == control.Decision(
        False, "limit", "images", LIMIT, LIMIT
    )


def test_a_revision_at_an_expired_gate_is_answered_expired(rt, db, gate):
    job, _sfn = gate("TaskTimedOut", stage="images")
    assert control.revise(rt, job["id"], GateId("images"), feedback="x") == control.Decision(
        False, "expired", "images", 1, LIMIT
    )


# ❌: at a gate the state machine's CancelJob path ends the job; between gates it ends here.


class CancelledCalls:
    """Step Functions for a cancel: each call recorded, `errors` by call name (a ClientError
    code, or an exception)."""

    def __init__(self, errors=None):
        self.errors, self.calls = errors or {}, []

    def _call(self, name, kwargs):
        self.calls.append((name, kwargs))
        error = self.errors.get(name)
        if isinstance(error, str):
            raise ClientError({"Error": {"Code": error, "Message": "x"}}, name)
        if error:
            raise error
        return {}

    def send_task_failure(self, **kwargs):
        return self._call("SendTaskFailure", kwargs)

    def stop_execution(self, **kwargs):
        return self._call("StopExecution", kwargs)


class Told:
    def __init__(self):
        self.events = []

    def send(self, job, event):
        self.events.append((job.id, type(event).__name__))


@pytest.fixture
def cancelling(rt, db, monkeypatch, chat):
    told = Told()
    replace_part(monkeypatch, rt, "notifier", told)

    def install(status="generating_images", gate=None, errors=None, arn=True):
        job = new_job(db, chat_id=chat, user_id=chat)
        jobs.update_job(db, job["id"], status=status, execution_arn=f"arn:execution:{job['id']}" if arn else None)
        if gate:
            gates.open_gate(db, job["id"], GateId(gate), "token-1")
        sfn = CancelledCalls(errors)
        replace_part(monkeypatch, rt, "sfn", sfn)
        return job["id"], sfn, told

    return install


STOP = {"error": "Cancelled", "cause": "cancelled by the user"}


def test_a_cancel_at_a_gate_rejects_it(rt, db, cancelling):
    job_id, sfn, told = cancelling(status="awaiting_script_approval", gate="script")
    assert control.cancel(rt, job_id) == control.Decision(True, "rejected", "script", 0, LIMIT)
    assert [name for name, _ in sfn.calls] == ["SendTaskFailure"]
    assert jobs.get_job(db, job_id).status == "awaiting_script_approval" and told.events == []  # CancelJob's


def test_a_cancel_between_gates_stops_the_execution_and_ends_the_job(rt, db, cancelling):
    job_id, sfn, told = cancelling()
    assert control.cancel(rt, job_id) == control.Decision(True, "rejected")
    assert sfn.calls == [("StopExecution", {"executionArn": f"arn:execution:{job_id}", **STOP})]
    assert jobs.get_job(db, job_id).status == "cancelled" and told.events == [(job_id, "JobEnded")]


def test_a_cancel_at_an_expired_gate_ends_the_job_here(rt, db, cancelling):
    job_id, sfn, told = cancelling(
        status="awaiting_script_approval", gate="script", errors={"SendTaskFailure": "TaskTimedOut"}
    )
    assert control.cancel(rt, job_id) == control.Decision(True, "rejected")
    assert [name for name, _ in sfn.calls] == ["SendTaskFailure", "StopExecution"]
    assert jobs.get_job(db, job_id).status == "cancelled" and told.events == [(job_id, "JobEnded")]


@pytest.mark.parametrize("error", ["ExecutionDoesNotExist", "ValidationException", ConnectionError("reset")])
def test_an_execution_that_cannot_be_stopped_still_ends_the_job(rt, db, cancelling, error):
    job_id, _sfn, told = cancelling(errors={"StopExecution": error})
    assert control.cancel(rt, job_id).done
    assert jobs.get_job(db, job_id).status == "cancelled" and told.events == [(job_id, "JobEnded")]


def test_a_job_not_started_yet_ends_without_a_call(rt, db, cancelling):
    job_id, sfn, _told = cancelling(arn=False)
    assert control.cancel(rt, job_id).done and sfn.calls == []
    assert jobs.get_job(db, job_id).status == "cancelled"


def test_an_ended_job_is_not_cancelled_again(rt, db, cancelling):
    job_id, sfn, told = cancelling(status="completed")
    assert control.cancel(rt, job_id) == control.Decision(False, "not_waiting")
    assert sfn.calls == [] and told.events == [] and jobs.get_job(db, job_id).status == "completed"


def test_a_blocked_chat_ends_its_job(rt, db, cancelling, chat):
    assert control.end_for_blocked_chat(rt, chat) is None  # nothing to end
    job_id, _sfn, _told = cancelling()
    assert control.end_for_blocked_chat(rt, chat) == job_id
    assert jobs.get_job(db, job_id).status == "cancelled"
    assert control.end_for_blocked_chat(rt, chat) is None


def test_a_job_takes_the_users_settings_unless_the_start_names_them(rt, db, starting, chat):
    rt, _sfn = starting()
    for field, value in (("voice", "male"), ("narration_language", "en"), ("subtitles", False)):
        preferences.choose(db, chat, field, value, **offered(rt))
    preferences.choose(
        db, chat, "video_model", "veo3.1_fast", **offered(rt.with_env(RUNWAY_VIDEO_MODELS="gen4_turbo,veo3.1_fast"))
    )
    rt = rt.with_env(RUNWAY_VIDEO_MODELS="gen4_turbo,veo3.1_fast")
    job, _ = start(rt, chat, job_id=f"job-{chat}")
    assert (job.id, job.voice, job.language, job.subtitles, job.video_model) == (
        f"job-{chat}",
        "male",
        "en",
        False,
        "veo3.1_fast",
    )
    other, _ = start(rt, chat + 10_000, language="ru")  # a user with no settings, a language named
    assert (other.voice, other.language, other.subtitles, other.video_model) == (None, "ru", None, "gen4_turbo")


def test_a_revision_keeps_the_words_and_a_lost_answer_gives_its_round_back(rt, db, gate):
    job, sfn = gate(stage="images")
    images = GateId("images")
    control.revise(rt, job["id"], images, feedback="светлее", segments=[2, 7])
    row = gates.get_gate(db, job["id"], images)
    assert (row.feedback, row.redo_segments) == ("светлее", [2, 7])
    gates.open_gate(db, job["id"], images, "token-2")
    sfn.error_code = ConnectionError("reset")
    with pytest.raises(VendorUnavailable):
        control.revise(rt, job["id"], images, feedback="ещё")
    row = gates.get_gate(db, job["id"], images)
    assert (row.decided_at, row.revisions, row.unknown_decision) == (None, 1, "revised")


def test_a_revision_step_functions_never_took_is_not_held(rt, db, gate):
    """A revision is held (its estimate added to the job's hold) when the gate is taken; when
    Step Functions then refuses it (throttled past the retries), the gate reopens and the hold
    gives it back, so asking again does not count it twice."""
    job, sfn = gate("ThrottlingException", stage="images")
    user, images = job["user_id"], GateId("images")
    before = usage.spent(db, user).user_usd
    with pytest.raises(ControlUnavailable):
        control.revise(rt, job["id"], images, feedback="ярче", segments=[2], usd=0.4)
    assert gates.get_gate(db, job["id"], images)["decided_at"] is None
    assert usage.spent(db, user).user_usd == pytest.approx(before)
    sfn.error_code = None
    assert control.revise(rt, job["id"], images, feedback="ярче", segments=[2], usd=0.4).done
    assert usage.spent(db, user).user_usd == pytest.approx(before + 0.4)


def test_a_cancel_racing_another_tap_leaves_the_job_to_that_tap(rt, db, cancelling, chat, monkeypatch):
    job_id, sfn, told = cancelling(status="awaiting_script_approval", gate="script")
    seen_open = gates.open_gate_for_job(db, job_id)
    gates.decide_gate(db, job_id, GateId("script"), "approved")  # the other tap, after the cancel read the gate
    monkeypatch.setattr(gates, "open_gate_for_job", lambda db, job_id: seen_open)
    assert control.cancel(rt, job_id) == control.Decision(False, "not_waiting", "script", None, LIMIT)
    assert control.end_for_blocked_chat(rt, chat) is None
    assert sfn.calls == [] and told.events == [] and jobs.get_job(db, job_id).status == "script_approved"


def test_a_keyed_revisions_resend_throttled_is_delivered_again_not_dropped(rt, db, gate):
    """A revision keyed by its update whose answer was lost stays taken (it may have landed). When
    the redelivery's resend was then throttled past the retries, the user was told "try again"
    and the update finished: the gate stayed decided 'revised', never confirmed, and every new
    answer found it "not_waiting" until it timed out. The resend is transient instead (a 5xx, so
    Telegram delivers the update again), and the hold is neither given back nor added twice."""
    job, sfn = gate(ConnectionError("reset by peer"), stage="images")
    user, images = job["user_id"], GateId("images")
    before = usage.spent(db, user).user_usd
    ask = {"feedback": "ярче", "segments": [2], "update_id": 4242, "usd": 0.4}
    with pytest.raises(VendorUnavailable):  # no answer: it may have landed
        control.revise(rt, job["id"], images, **ask)
    sfn.error_code = "ThrottlingException"
    with pytest.raises(VendorUnavailable):  # the redelivery's resend, throttled: delivered again
        control.revise(rt, job["id"], images, **ask)
    assert usage.spent(db, user).user_usd == pytest.approx(before + 0.4)
    sfn.error_code = None
    assert control.revise(rt, job["id"], images, **ask).done  # the next redelivery lands it
    row = gates.get_gate(db, job["id"], images)
    assert (row.decision, row.revisions, row.resumed_at is not None) == ("revised", 1, True)
    assert usage.spent(db, user).user_usd == pytest.approx(before + 0.4)


def _sfn_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "SendTaskSuccess")


def test_a_throttled_step_functions_call_is_tried_again_with_doubling_backoff_up_to_its_attempts(rt, monkeypatch):
    """control.call_step_functions: a throttle is tried again after a full-jitter wait of at most
    0.5 s, then 1 s, up to AWS_THROTTLE_ATTEMPTS calls in all; still throttled, or refused
    otherwise, ControlUnavailable; a dead token or a missing execution is the answer itself."""
    three = rt.with_env(AWS_THROTTLE_ATTEMPTS="3")
    slept: list[float] = []
    bounds: list[tuple[float, float]] = []
    monkeypatch.setattr(control.time, "sleep", slept.append)
    monkeypatch.setattr(control.random, "uniform", lambda low, high: bounds.append((low, high)) or high)
    calls: list[str] = []

    def answering(*answers):
        queue = iter(answers)

        def call(sfn):
            answer = next(queue)
            calls.append(answer if isinstance(answer, str) else answer.response["Error"]["Code"])
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call

    throttled = [_sfn_error("ThrottlingException"), _sfn_error("TooManyRequestsException")]
    assert control.call_step_functions(three, answering(*throttled, "taken")) == "taken"
    assert bounds == [(0, 0.5), (0, 1.0)] and slept == [0.5, 1.0] and len(calls) == 3

    calls.clear()
    with pytest.raises(ControlUnavailable, match="ThrottlingException"):
        control.call_step_functions(three, answering(*[_sfn_error("ThrottlingException")] * 4))
    assert len(calls) == 3  # every attempt, and no more

    for code in ("AccessDeniedException", "InternalFailure"):
        calls.clear()
        with pytest.raises(ControlUnavailable, match=code):
            control.call_step_functions(three, answering(_sfn_error(code), "taken"))
        assert calls == [code]  # not tried again

    for code in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist", "ExecutionDoesNotExist", "ValidationException"):
        calls.clear()
        with pytest.raises(ClientError) as answered:
            control.call_step_functions(three, answering(_sfn_error(code), "taken"))
        assert answered.value.response["Error"]["Code"] == code and calls == [code]
