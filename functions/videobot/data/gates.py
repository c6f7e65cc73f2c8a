"""The approval gates (ai_video_bot.approval_gates): one per job and stage (script, images,
videos), holding the Step Functions task token that the user's answer resumes. A gate is
decided once: approved, rejected, revised (feedback), timed_out or abandoned."""

from __future__ import annotations

from typing import NamedTuple

from videobot.data import jobs, ledger
from videobot.data.db import Database
from videobot.data.rows import Gate
from videobot.errors import BudgetExceeded, DailyCapReached
from videobot.pipeline import GateId, GateStage

GATES = "ai_video_bot.approval_gates"
# A decision made this long ago and never confirmed by Step Functions belongs to a webhook that
# was killed between the two (its Lambda timeout is 29 s): the next tap sends it again.
UNCONFIRMED_DECISION_SECONDS = 60


def open_gate(db: Database, job_id: str, gate: GateId, task_token: str) -> Gate:
    """Store the gate's task token (a retried invocation replaces it). Returns the gate row."""
    (row,) = db.query(  # inserted or updated: always one row
        f"INSERT INTO {GATES} (job_id, stage, task_token) VALUES (%s, %s, %s)"
        " ON CONFLICT (job_id, stage) DO UPDATE SET task_token = EXCLUDED.task_token,"
        " decision = NULL, decided_at = NULL, unknown_decision = NULL, resumed_at = NULL,"
        " ask_attempts = 0, next_ask_at = NULL,"
        " opened_at = (now() AT TIME ZONE 'utc') RETURNING *",
        (job_id, str(gate), task_token),
    )
    return Gate.from_row(row)


def question_failed(db: Database, job_id: str, gate: GateId, delays: tuple[float, ...]) -> Gate | None:
    """Telegram did not take the gate's question: count the attempt and set when it is asked
    again, the attempt's delay from `delays` (the last one repeats). None if the gate is no
    longer open."""
    return Gate.from_row(
        db.query_one(
            f"UPDATE {GATES} SET ask_attempts = ask_attempts + 1,"
            " next_ask_at = (now() AT TIME ZONE 'utc') + (%s::float8[])[LEAST(ask_attempts + 1, %s)]"
            " * interval '1 second' WHERE job_id = %s AND stage = %s AND decided_at IS NULL RETURNING *",
            (list(delays), len(delays), job_id, str(gate)),
        )
    )


def question_asked(db: Database, job_id: str, gate: GateId) -> None:
    db.execute(f"UPDATE {GATES} SET next_ask_at = NULL WHERE job_id = %s AND stage = %s", (job_id, str(gate)))


def questions_due(db: Database, limit: int = 100) -> list[Gate]:
    """Open gates whose question is due to be asked again."""
    rows = db.query(
        f"SELECT * FROM {GATES} WHERE next_ask_at IS NOT NULL AND decided_at IS NULL"
        " AND next_ask_at <= (now() AT TIME ZONE 'utc') ORDER BY next_ask_at LIMIT %s",
        (limit,),
    )
    return [Gate.from_row(row) for row in rows]


def open_gate_for_job(db: Database, job_id: str) -> Gate | None:
    """The job's open gate; of two refused segments paused at once, the one asked first."""
    return Gate.from_row(
        db.query_one(
            f"SELECT * FROM {GATES} WHERE job_id = %s AND decided_at IS NULL ORDER BY opened_at, stage LIMIT 1",
            (job_id,),
        )
    )


def latest_gate(db: Database, job_id: str) -> Gate | None:
    """The job's gate opened last (the one that timed out, even if a tap decided it meanwhile)."""
    return Gate.from_row(
        db.query_one(f"SELECT * FROM {GATES} WHERE job_id = %s ORDER BY opened_at DESC LIMIT 1", (job_id,))
    )


def gate_revised_by(db: Database, job_id: str, update_id: int) -> Gate | None:
    """The job's gate whose last revision this Telegram update made (its redelivery)."""
    return Gate.from_row(
        db.query_one(f"SELECT * FROM {GATES} WHERE job_id = %s AND revised_by_update = %s", (job_id, update_id))
    )


def open_gates_for_job(db: Database, job_id: str) -> list[Gate]:
    """Every gate of the job still waiting for the user (an approval, or refused segments), oldest first."""
    rows = db.query(
        f"SELECT * FROM {GATES} WHERE job_id = %s AND decided_at IS NULL ORDER BY opened_at, stage", (job_id,)
    )
    return [Gate.from_row(row) for row in rows]


def get_gate(db: Database, job_id: str, gate: GateId) -> Gate | None:
    return Gate.from_row(db.query_one(f"SELECT * FROM {GATES} WHERE job_id = %s AND stage = %s", (job_id, str(gate))))


def rejected_gate(db: Database, job_id: str) -> Gate | None:
    return Gate.from_row(
        db.query_one(
            f"SELECT * FROM {GATES} WHERE job_id = %s AND decision = 'rejected' ORDER BY decided_at DESC LIMIT 1",
            (job_id,),
        )
    )


def close_open_gates(db: Database, job_id: str, decision: str) -> None:
    db.execute(
        f"UPDATE {GATES} SET decision = %s, decided_at = (now() AT TIME ZONE 'utc')"
        " WHERE job_id = %s AND decided_at IS NULL",
        (decision, job_id),
    )


def abandon_gate(db: Database, job_id: str, gate: GateId) -> None:
    """The gate's token is dead at Step Functions (timed out, or the execution ended)."""
    db.execute(f"UPDATE {GATES} SET decision = 'abandoned' WHERE job_id = %s AND stage = %s", (job_id, str(gate)))


def decide_gate(
    db: Database, job_id: str, gate: GateId, decision: str, round_: int | None = None
) -> tuple[str, int] | None:
    """Decide an open gate once, in one transaction (an approval also moves the job on).
    Returns its (token, revisions), or None when the gate is not open (already decided, never
    reached, or another stage) or, with `round_`, is open at another round (a revision since)."""
    with db.connect() as conn, conn.cursor() as cur:
        claimed = _claim(cur, job_id, gate, decision, round_)
        if claimed is not None and decision == "approved":
            jobs.mark_gate_approved(cur, job_id, GateStage(gate.stage))
        return claimed


class Revision(NamedTuple):
    """A revision asked at a gate: its token and the gate's new round when it was taken
    ("revised"); the token to send again when this update's revision was taken but never
    confirmed ("resend"); else why not ("already": this update's revision was applied,
    "not_waiting", "limit", "stale_round", "over_budget", "daily_cap"; with the gate's round
    where there is one)."""

    token: str | None
    outcome: str
    round: int | None = None
    unaffordable: BudgetExceeded | DailyCapReached | None = None  # "over_budget", "daily_cap": why


def revise_gate(
    db: Database,
    job_id: str,
    gate: GateId,
    *,
    feedback: str | None,
    segments: list[int] | None,
    limit: int,
    round_: int | None = None,
    update_id: int | None = None,
    ask: ledger.Ask | None = None,
) -> Revision:
    """Decide an open gate 'revised' with the user's feedback, at most `limit` rounds (and,
    with `round_`, only at that round); the gate's round becomes one more. With `update_id`
    (the Telegram update that carried the feedback), once per update: a redelivery finds its
    revision, to be sent again if Step Functions never confirmed it. What it will spend (`ask`)
    is checked in the same transaction: its generations against the models' daily caps
    ("daily_cap"), its estimate against the budgets on top of what the job still needs
    ("over_budget"), and then added to the job's hold; when it does not fit, the gate is left
    open and nothing is held."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT revisions, decided_at, decision, resumed_at, task_token, revised_by_update FROM {GATES}"
            " WHERE job_id = %s AND stage = %s FOR UPDATE",
            (job_id, str(gate)),
        )
        row = cur.fetchone()
        if row is not None and update_id is not None and row[5] == update_id:
            unconfirmed = row[1] is not None and row[2] == "revised" and row[3] is None
            return Revision(row[4], "resend", row[0]) if unconfirmed else Revision(None, "already", row[0])
        if row is None or row[1] is not None:
            return Revision(None, "not_waiting")
        if round_ is not None and row[0] != round_:
            return Revision(None, "stale_round", row[0])
        if row[0] >= limit:
            return Revision(None, "limit", row[0])
        if ask is not None and (ask.usd > 0 or ask.generations):
            ledger.lock(cur)
            try:
                ledger.check_generations(cur, ask.generations, ask.caps)
                if ask.usd > 0:
                    ledger.hold_more(cur, job_id, ask.usd, ask.budgets)
            except (BudgetExceeded, DailyCapReached) as exc:
                return Revision(None, "over_budget" if isinstance(exc, BudgetExceeded) else "daily_cap", row[0], exc)
        claimed = _claim(cur, job_id, gate, "revised")
        cur.execute(
            f"UPDATE {GATES} SET revisions = revisions + 1, feedback = %s, redo_segments = %s,"
            " revised_by_update = %s WHERE job_id = %s AND stage = %s",
            (feedback, segments or None, update_id, job_id, str(gate)),
        )
        return Revision(claimed[0] if claimed else None, "revised", row[0] + 1)


def _claim(cur, job_id: str, gate: GateId, decision: str, round_: int | None = None) -> tuple[str, int] | None:
    """An open gate (of round `round_`, when given), or one decided the same way long enough ago
    that the webhook which decided it must have died before Step Functions heard of it (never
    confirmed)."""
    cur.execute(
        f"UPDATE {GATES} SET decision = %s, decided_at = (now() AT TIME ZONE 'utc')"
        " WHERE job_id = %s AND stage = %s AND (%s::int IS NULL OR revisions = %s::int)"
        " AND (decided_at IS NULL OR (decision = %s AND %s <> 'revised'"
        " AND resumed_at IS NULL AND decided_at < (now() AT TIME ZONE 'utc') - %s * interval '1 second'))"
        " RETURNING task_token, revisions",
        (decision, job_id, str(gate), round_, round_, decision, decision, UNCONFIRMED_DECISION_SECONDS),
    )
    row = cur.fetchone()
    return (row[0], row[1]) if row else None


def confirm_resumed(db: Database, job_id: str, gate: GateId, token: str) -> None:
    """Step Functions accepted the decision sent on `token`."""
    db.execute(
        f"UPDATE {GATES} SET resumed_at = (now() AT TIME ZONE 'utc'), unknown_decision = NULL"
        " WHERE job_id = %s AND stage = %s AND task_token = %s",
        (job_id, str(gate), token),
    )


def landed_decision(db: Database, job_id: str, gate: GateId, token: str) -> str | None:
    """Step Functions says `token` is dead. If an earlier decision sent on it had an unknown
    outcome, that one landed: the gate is decided so (and confirmed), and it is returned."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT unknown_decision FROM {GATES} WHERE job_id = %s AND stage = %s AND task_token = %s FOR UPDATE",
            (job_id, str(gate), token),
        )
        row = cur.fetchone()
        landed = row[0] if row else None
        if landed is None:
            return None
        cur.execute(
            f"UPDATE {GATES} SET decision = %s, decided_at = (now() AT TIME ZONE 'utc'),"
            " resumed_at = (now() AT TIME ZONE 'utc'), unknown_decision = NULL"
            " WHERE job_id = %s AND stage = %s",
            (landed, job_id, str(gate)),
        )
        if landed == "approved":
            jobs.mark_gate_approved(cur, job_id, GateStage(gate.stage))
        return landed


def reopen_gate(db: Database, job_id: str, gate: GateId, decision: str, *, outcome_unknown: bool = False) -> None:
    """Undo a decision whose Step Functions call failed: the gate waits again, as does the job
    (and a revision round is given back). `outcome_unknown`: the call may have landed (a
    connection error, a read timeout), so the decision is remembered for `landed_decision`."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(
            f"UPDATE {GATES} SET decision = NULL, decided_at = NULL"
            + (", revisions = revisions - 1, revised_by_update = NULL" if decision == "revised" else "")
            + (", unknown_decision = %s" if outcome_unknown else "")
            + " WHERE job_id = %s AND stage = %s AND decision = %s",
            ((decision,) if outcome_unknown else ()) + (job_id, str(gate), decision),
        )
        if cur.rowcount and decision == "approved":
            jobs.unmark_gate_approved(cur, job_id, GateStage(gate.stage))


def offer_redo_all(db: Database, job_id: str, gate: GateId, words: str) -> int | None:
    """Keep the words written at the open gate `stage` until the user taps "redo all" (or
    writes again). Returns the gate's round, or None when that gate is not open."""
    row = db.query_one(
        f"UPDATE {GATES} SET offered_feedback = %s WHERE job_id = %s AND stage = %s"
        " AND decided_at IS NULL RETURNING revisions",
        (words, job_id, str(gate)),
    )
    return row["revisions"] if row else None


def offered_feedback(db: Database, job_id: str, gate: GateId, round_: int) -> str | None:
    """The words offered for "redo all" at that round of the open gate, or None."""
    row = db.query_one(
        f"SELECT offered_feedback FROM {GATES} WHERE job_id = %s AND stage = %s"
        " AND decided_at IS NULL AND revisions = %s",
        (job_id, str(gate), round_),
    )
    return row["offered_feedback"] if row else None


def withdraw_offer(db: Database, job_id: str, gate: GateId, round_: int) -> bool:
    row = db.query_one(
        f"UPDATE {GATES} SET offered_feedback = NULL WHERE job_id = %s AND stage = %s"
        " AND revisions = %s AND offered_feedback IS NOT NULL RETURNING job_id",
        (job_id, str(gate), round_),
    )
    return row is not None
