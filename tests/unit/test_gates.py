"""The approval gates' data layer (videobot.data.gates) on its own, against PostgreSQL: each
query's filter and each column it sets, so that a changed condition fails here (the
mutation run, `make mutation`, found them untested; docs/reliability.md)."""

from __future__ import annotations

import pytest

from tests.helpers import new_job
from videobot import usage
from videobot.data import gates, jobs, ledger
from videobot.pipeline import GateId, GateStage, JobStatus, RefusalKind

SCRIPT, IMAGES = GateId(GateStage.SCRIPT), GateId(GateStage.IMAGES)
REFUSED = GateId(RefusalKind.CLIP, 6)


@pytest.fixture
def job_id(db) -> str:
    job = new_job(db)
    jobs.update_job(db, job["id"], status=JobStatus.AWAITING_SCRIPT_APPROVAL)
    return job["id"]


def set_gate(db, job_id: str, gate: GateId, **columns) -> None:
    """Columns the user's earlier answers would have set (decided_at as SQL, for its age)."""
    for name, value in columns.items():
        if name == "decided_at":
            db.execute(
                f"UPDATE {gates.GATES} SET decided_at = {value} WHERE job_id = %s AND stage = %s", (job_id, str(gate))
            )
        else:
            db.execute(
                f"UPDATE {gates.GATES} SET {name} = %s WHERE job_id = %s AND stage = %s", (value, job_id, str(gate))
            )


LONG_AGO = f"(now() AT TIME ZONE 'utc') - interval '{gates.UNCONFIRMED_DECISION_SECONDS + 5} seconds'"
JUST_NOW = f"(now() AT TIME ZONE 'utc') - interval '{gates.UNCONFIRMED_DECISION_SECONDS - 5} seconds'"


def test_a_retried_request_replaces_the_token_and_forgets_the_last_decision(db, job_id):
    gates.open_gate(db, job_id, SCRIPT, "token-1")
    set_gate(db, job_id, SCRIPT, decision="approved", decided_at=LONG_AGO, unknown_decision="approved")
    gates.confirm_resumed(db, job_id, SCRIPT, "token-1")
    reopened = gates.open_gate(db, job_id, SCRIPT, "token-2")
    assert (reopened.task_token, reopened.decision, reopened.decided_at) == ("token-2", None, None)
    assert (reopened.unknown_decision, reopened.resumed_at, reopened.stage) == (None, None, "script")
    assert gates.get_gate(db, job_id, SCRIPT) == reopened
    assert gates.get_gate(db, job_id, IMAGES) is None


def test_the_open_gates_of_a_job_are_the_undecided_ones_oldest_first(db, job_id):
    for gate, token in ((REFUSED, "t-refused"), (IMAGES, "t-images"), (SCRIPT, "t-script")):
        gates.open_gate(db, job_id, gate, token)
    set_gate(db, job_id, REFUSED, opened_at="2026-01-01 00:00:02")
    set_gate(db, job_id, IMAGES, opened_at="2026-01-01 00:00:01")
    set_gate(db, job_id, SCRIPT, opened_at="2026-01-01 00:00:01", decision="approved", decided_at=LONG_AGO)
    other = new_job(db, chat_id=5_000_000_002)["id"]
    gates.open_gate(db, other, SCRIPT, "t-other")
    assert [g.stage for g in gates.open_gates_for_job(db, job_id)] == ["images", "refused_clip_6"]
    # equal opening times: by stage
    set_gate(db, job_id, REFUSED, opened_at="2026-01-01 00:00:01")
    assert [g.stage for g in gates.open_gates_for_job(db, job_id)] == ["images", "refused_clip_6"]
    assert gates.open_gate_for_job(db, other).task_token == "t-other"
    gates.close_open_gates(db, other, "abandoned")
    assert gates.open_gate_for_job(db, other) is None


def test_closing_a_jobs_gates_decides_only_those_still_open(db, job_id):
    gates.open_gate(db, job_id, SCRIPT, "t-script")
    gates.open_gate(db, job_id, IMAGES, "t-images")
    set_gate(db, job_id, SCRIPT, decision="approved", decided_at="'2026-01-01 00:00:00'")
    other = new_job(db, chat_id=5_000_000_002)["id"]
    gates.open_gate(db, other, SCRIPT, "t-other")
    gates.close_open_gates(db, job_id, "abandoned")
    script, images = gates.get_gate(db, job_id, SCRIPT), gates.get_gate(db, job_id, IMAGES)
    assert (script.decision, str(script.decided_at)) == ("approved", "2026-01-01 00:00:00")
    assert images.decision == "abandoned" and images.decided_at is not None
    assert gates.get_gate(db, other, SCRIPT).decided_at is None


def test_the_rejected_gate_is_the_last_one_rejected(db, job_id):
    assert gates.rejected_gate(db, job_id) is None
    for gate in (SCRIPT, IMAGES, REFUSED):
        gates.open_gate(db, job_id, gate, f"t-{gate}")
    set_gate(db, job_id, SCRIPT, decision="rejected", decided_at="'2026-01-01 00:00:01'")
    set_gate(db, job_id, IMAGES, decision="rejected", decided_at="'2026-01-01 00:00:02'")
    set_gate(db, job_id, REFUSED, decision="approved", decided_at="'2026-01-01 00:00:03'")
    assert gates.rejected_gate(db, job_id).stage == "images"


def test_abandoning_a_gate_leaves_the_others(db, job_id):
    gates.open_gate(db, job_id, SCRIPT, "t-script")
    gates.open_gate(db, job_id, IMAGES, "t-images")
    gates.abandon_gate(db, job_id, IMAGES)
    assert gates.get_gate(db, job_id, IMAGES).decision == "abandoned"
    assert gates.get_gate(db, job_id, SCRIPT).decision is None


def test_an_approval_moves_the_job_on_and_a_rejection_does_not(db, job_id):
    gates.open_gate(db, job_id, SCRIPT, "t-script")
    assert gates.decide_gate(db, job_id, SCRIPT, "approved", round_=1) is None  # another round
    assert gates.decide_gate(db, job_id, SCRIPT, "approved", round_=0) == ("t-script", 0)
    job = jobs.get_job(db, job_id)
    assert (job.status, job.script_approved) == (JobStatus.SCRIPT_APPROVED, 1)
    assert gates.decide_gate(db, job_id, SCRIPT, "approved") is None  # once

    other = new_job(db, chat_id=5_000_000_002)["id"]
    jobs.update_job(db, other, status=JobStatus.AWAITING_SCRIPT_APPROVAL)
    gates.open_gate(db, other, SCRIPT, "t-other")
    assert gates.decide_gate(db, other, SCRIPT, "rejected") == ("t-other", 0)
    assert jobs.get_job(db, other).status == JobStatus.AWAITING_SCRIPT_APPROVAL


@pytest.mark.parametrize(
    ("age", "decision", "resumed", "again"),
    [
        (LONG_AGO, "approved", False, True),  # its webhook died before Step Functions heard of it
        (JUST_NOW, "approved", False, False),  # its webhook may still be sending it
        (LONG_AGO, "rejected", False, False),  # decided another way
        (LONG_AGO, "approved", True, False),  # Step Functions confirmed it
    ],
)
def test_an_unconfirmed_decision_is_sent_again_once_its_webhook_must_be_dead(db, job_id, age, decision, resumed, again):
    gates.open_gate(db, job_id, SCRIPT, "t-script")
    set_gate(db, job_id, SCRIPT, decision=decision, decided_at=age)
    if resumed:
        gates.confirm_resumed(db, job_id, SCRIPT, "t-script")
    claimed = gates.decide_gate(db, job_id, SCRIPT, "approved")
    assert claimed == (("t-script", 0) if again else None)


def test_a_revision_is_never_sent_again_as_unconfirmed(db, job_id):
    gates.open_gate(db, job_id, SCRIPT, "t-script")
    set_gate(db, job_id, SCRIPT, decision="revised", decided_at=LONG_AGO)
    assert gates.decide_gate(db, job_id, SCRIPT, "revised") is None


def test_a_revision_takes_a_round_and_keeps_the_words(db, job_id):
    revise = gates.revise_gate
    assert revise(db, job_id, SCRIPT, feedback="x", segments=None, limit=2) == gates.Revision(None, "not_waiting")
    gates.open_gate(db, job_id, SCRIPT, "t-script")
    assert revise(db, job_id, SCRIPT, feedback="x", segments=None, limit=2, round_=1) == gates.Revision(
        None, "stale_round", 0
    )
    assert revise(db, job_id, SCRIPT, feedback="короче", segments=[2, 5], limit=2, round_=0) == gates.Revision(
        "t-script", "revised", 1
    )
    gate = gates.get_gate(db, job_id, SCRIPT)
    assert (gate.decision, gate.revisions, gate.feedback, gate.redo_segments) == ("revised", 1, "короче", [2, 5])
    assert gate.decided_at is not None
    gates.open_gate(db, job_id, SCRIPT, "t-script-2")  # the state machine asks again
    assert revise(db, job_id, SCRIPT, feedback="ещё", segments=[], limit=2) == gates.Revision(
        "t-script-2", "revised", 2
    )
    assert gates.get_gate(db, job_id, SCRIPT).redo_segments is None
    gates.open_gate(db, job_id, SCRIPT, "t-script-3")
    assert revise(db, job_id, SCRIPT, feedback="ещё", segments=None, limit=2) == gates.Revision(None, "limit", 2)
    assert gates.get_gate(db, job_id, SCRIPT).decided_at is None  # the limit decides nothing


def test_a_revision_over_the_budget_leaves_the_gate_open_and_holds_nothing(db, job_id):
    user_id = jobs.get_job(db, job_id)["user_id"]
    gates.open_gate(db, job_id, IMAGES, "t-images")
    before = usage.spent(db, user_id).user_usd
    ask = ledger.Ask(1.5, ledger.Budgets(user_usd=before + 1.0))
    refused = gates.revise_gate(db, job_id, IMAGES, feedback="ярче", segments=[2], limit=5, ask=ask)
    assert (refused.token, refused.outcome, refused.round) == (None, "over_budget", 0)
    assert (refused.unaffordable.scope, refused.unaffordable.budget) == ("user", pytest.approx(before + 1.0))
    gate = gates.get_gate(db, job_id, IMAGES)
    assert (gate.decided_at, gate.revisions, gate.feedback) == (None, 0, None)
    assert usage.spent(db, user_id).user_usd == pytest.approx(before)
    # one that fits is held for the redo, on top of what counted before
    ask = ledger.Ask(0.75, ledger.Budgets(user_usd=before + 1.0))
    taken = gates.revise_gate(db, job_id, IMAGES, feedback="ярче", segments=[2], limit=5, ask=ask)
    assert (taken.token, taken.outcome, taken.round) == ("t-images", "revised", 1)
    assert usage.spent(db, user_id).user_usd == pytest.approx(before + 0.75)


def test_a_revision_past_a_models_daily_cap_leaves_the_gate_open_and_says_when(db, job_id):
    model = f"cap-test-{job_id}"  # a model of its own: no other test's generations
    for n in range(3):
        ledger.reserve(
            db, [ledger.Call(f"cap:{job_id}:{n}", job_id, "generate_images", "runway", model, 0.0)], ledger.Budgets()
        )
    gates.open_gate(db, job_id, IMAGES, "t-images")
    ask = ledger.Ask(0.0, ledger.Budgets(), {model: 2}, {model: 4})
    refused = gates.revise_gate(db, job_id, IMAGES, feedback=None, segments=[2, 5], limit=5, ask=ask)
    assert (refused.token, refused.outcome, refused.round) == (None, "daily_cap", 0)
    assert (refused.unaffordable.cap, refused.unaffordable.used, refused.unaffordable.wanted) == (4, 3, 2)
    assert refused.unaffordable.resets_at is not None  # the oldest of the three leaves the window
    assert gates.get_gate(db, job_id, IMAGES)["decided_at"] is None
    one = ledger.Ask(0.0, ledger.Budgets(), {model: 1}, {model: 4})
    assert gates.revise_gate(db, job_id, IMAGES, feedback=None, segments=[2], limit=5, ask=one).outcome == "revised"


def test_a_decision_confirmed_on_its_token_only(db, job_id):
    gates.open_gate(db, job_id, SCRIPT, "t-script")
    set_gate(db, job_id, SCRIPT, unknown_decision="approved")
    gates.confirm_resumed(db, job_id, SCRIPT, "t-old")
    gate = gates.get_gate(db, job_id, SCRIPT)
    assert (gate.resumed_at, gate.unknown_decision) == (None, "approved")
    gates.confirm_resumed(db, job_id, SCRIPT, "t-script")
    gate = gates.get_gate(db, job_id, SCRIPT)
    assert gate.resumed_at is not None and gate.unknown_decision is None


def test_a_dead_token_tells_whether_an_earlier_decision_landed(db, job_id):
    gates.open_gate(db, job_id, SCRIPT, "t-script")
    assert gates.landed_decision(db, job_id, SCRIPT, "t-script") is None  # none was in doubt
    gates.decide_gate(db, job_id, SCRIPT, "approved")
    gates.reopen_gate(db, job_id, SCRIPT, "approved", outcome_unknown=True)
    assert jobs.get_job(db, job_id).status == JobStatus.AWAITING_SCRIPT_APPROVAL
    assert gates.landed_decision(db, job_id, SCRIPT, "t-other") is None  # another token's
    assert gates.landed_decision(db, job_id, SCRIPT, "t-script") == "approved"
    gate = gates.get_gate(db, job_id, SCRIPT)
    assert (gate.decision, gate.unknown_decision) == ("approved", None)
    assert gate.decided_at is not None and gate.resumed_at is not None
    job = jobs.get_job(db, job_id)
    assert (job.status, job.script_approved) == (JobStatus.SCRIPT_APPROVED, 1)


def test_a_rejection_that_landed_does_not_approve_the_job(db, job_id):
    gates.open_gate(db, job_id, SCRIPT, "t-script")
    gates.decide_gate(db, job_id, SCRIPT, "rejected")
    gates.reopen_gate(db, job_id, SCRIPT, "rejected", outcome_unknown=True)
    assert gates.landed_decision(db, job_id, SCRIPT, "t-script") == "rejected"
    assert jobs.get_job(db, job_id).status == JobStatus.AWAITING_SCRIPT_APPROVAL


def test_reopening_undoes_only_the_decision_it_names(db, job_id):
    gates.open_gate(db, job_id, SCRIPT, "t-script")
    set_gate(db, job_id, SCRIPT, revisions=1)
    gates.decide_gate(db, job_id, SCRIPT, "approved")
    gates.reopen_gate(db, job_id, SCRIPT, "rejected")  # not the decision taken: nothing changes
    assert gates.get_gate(db, job_id, SCRIPT).decision == "approved"
    assert jobs.get_job(db, job_id).status == JobStatus.SCRIPT_APPROVED
    gates.reopen_gate(db, job_id, SCRIPT, "approved")  # a known failure: nothing in doubt
    gate = gates.get_gate(db, job_id, SCRIPT)
    assert (gate.decision, gate.decided_at, gate.unknown_decision, gate.revisions) == (None, None, None, 1)
    job = jobs.get_job(db, job_id)
    assert (job.status, job.script_approved) == (JobStatus.AWAITING_SCRIPT_APPROVAL, 0)


def test_reopening_a_gate_decided_since_leaves_the_job_where_it_is(db, job_id):
    """A late failure of an approval whose gate was asked again (a new token) meanwhile."""
    gates.open_gate(db, job_id, SCRIPT, "t-script")
    gates.decide_gate(db, job_id, SCRIPT, "approved")
    gates.open_gate(db, job_id, SCRIPT, "t-script-2")
    gates.reopen_gate(db, job_id, SCRIPT, "approved")
    assert jobs.get_job(db, job_id).status == JobStatus.SCRIPT_APPROVED


def test_a_reopened_revision_gives_its_round_back(db, job_id):
    gates.open_gate(db, job_id, SCRIPT, "t-script")
    gates.revise_gate(db, job_id, SCRIPT, feedback="x", segments=None, limit=3)
    gates.reopen_gate(db, job_id, SCRIPT, "revised", outcome_unknown=True)
    gate = gates.get_gate(db, job_id, SCRIPT)
    assert (gate.decision, gate.revisions, gate.unknown_decision) == (None, 0, "revised")
    assert jobs.get_job(db, job_id).status == JobStatus.AWAITING_SCRIPT_APPROVAL


def test_words_offered_for_redo_all_belong_to_their_round_of_the_open_gate(db, job_id):
    assert gates.offer_redo_all(db, job_id, IMAGES, "светлее") is None  # not open
    gates.open_gate(db, job_id, IMAGES, "t-images")
    assert gates.offer_redo_all(db, job_id, IMAGES, "светлее") == 0
    assert gates.offered_feedback(db, job_id, IMAGES, 1) is None
    assert gates.offered_feedback(db, job_id, IMAGES, 0) == "светлее"
    assert gates.withdraw_offer(db, job_id, IMAGES, 1) is False
    assert gates.withdraw_offer(db, job_id, IMAGES, 0) is True
    assert gates.withdraw_offer(db, job_id, IMAGES, 0) is False  # already withdrawn
    assert gates.offered_feedback(db, job_id, IMAGES, 0) is None
    gates.offer_redo_all(db, job_id, IMAGES, "темнее")
    gates.decide_gate(db, job_id, IMAGES, "rejected")
    assert gates.offered_feedback(db, job_id, IMAGES, 0) is None  # the gate is closed
    assert gates.offer_redo_all(db, job_id, IMAGES, "ещё") is None


def test_a_revision_is_keyed_by_its_update_so_a_redelivery_resends_or_is_told_it_was_applied(db, job_id):
    """Item 8: Telegram redelivers the update that carried the feedback. Until Step Functions
    confirmed the revision, the redelivery gets its token to send again ("resend"), never a
    second round; after, "already"; another update finds the gate decided."""
    images = GateId("images")
    gates.open_gate(db, job_id, images, "token-1")
    revise = {"feedback": "светлее", "segments": [1], "limit": 3}
    assert gates.revise_gate(db, job_id, images, update_id=501, **revise) == gates.Revision("token-1", "revised", 1)
    assert gates.gate_revised_by(db, job_id, 501).stage == "images"
    assert gates.gate_revised_by(db, job_id, 502) is None
    assert gates.revise_gate(db, job_id, images, update_id=501, **revise) == gates.Revision("token-1", "resend", 1)
    assert gates.revise_gate(db, job_id, images, update_id=502, **revise) == gates.Revision(None, "not_waiting")
    gates.confirm_resumed(db, job_id, images, "token-1")
    assert gates.revise_gate(db, job_id, images, update_id=501, **revise) == gates.Revision(None, "already", 1)
    gate = gates.get_gate(db, job_id, images)
    assert (gate.revisions, gate.feedback, gate.redo_segments, gate.revised_by_update) == (1, "светлее", [1], 501)
