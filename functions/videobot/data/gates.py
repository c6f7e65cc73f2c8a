"""The approval gates (ai_video_bot.approval_gates): one per job and stage (script, images,
videos), holding the Step Functions task token that the user's answer resumes. A gate is
decided once: approved, rejected, revised (feedback), timed_out or abandoned."""

from __future__ import annotations

from videobot.data import db, jobs
from videobot.data.rows import Gate

GATES = "ai_video_bot.approval_gates"
# A decision made this long ago and never confirmed by Step Functions belongs to a webhook that
# was killed between the two (its Lambda timeout is 29 s): the next tap sends it again.
UNCONFIRMED_DECISION_SECONDS = 60


def open_gate(job_id: str, stage: str, task_token: str) -> Gate:
    """Store the gate's task token (a retried invocation replaces it). Returns the gate row."""
    return Gate.from_row(
        db.query_one(
            f"INSERT INTO {GATES} (job_id, stage, task_token) VALUES (%s, %s, %s)"
            " ON CONFLICT (job_id, stage) DO UPDATE SET task_token = EXCLUDED.task_token,"
            " decision = NULL, decided_at = NULL, unknown_decision = NULL, resumed_at = NULL,"
            " opened_at = (now() AT TIME ZONE 'utc') RETURNING *",
            (job_id, stage, task_token),
        )
    )


def open_gate_for_job(job_id: str) -> Gate | None:
    return Gate.from_row(db.query_one(f"SELECT * FROM {GATES} WHERE job_id = %s AND decided_at IS NULL", (job_id,)))


def open_gates_for_job(job_id: str) -> list[Gate]:
    """Every gate of the job still waiting for the user (an approval, or refused segments), oldest first."""
    rows = db.query(
        f"SELECT * FROM {GATES} WHERE job_id = %s AND decided_at IS NULL ORDER BY opened_at, stage", (job_id,)
    )
    return [Gate.from_row(row) for row in rows]


def get_gate(job_id: str, stage: str) -> Gate | None:
    return Gate.from_row(db.query_one(f"SELECT * FROM {GATES} WHERE job_id = %s AND stage = %s", (job_id, stage)))


def rejected_gate(job_id: str) -> Gate | None:
    return Gate.from_row(
        db.query_one(
            f"SELECT * FROM {GATES} WHERE job_id = %s AND decision = 'rejected' ORDER BY decided_at DESC LIMIT 1",
            (job_id,),
        )
    )


def close_open_gates(job_id: str, decision: str) -> None:
    db.execute(
        f"UPDATE {GATES} SET decision = %s, decided_at = (now() AT TIME ZONE 'utc')"
        " WHERE job_id = %s AND decided_at IS NULL",
        (decision, job_id),
    )


def abandon_gate(job_id: str, stage: str) -> None:
    """The gate's token is dead at Step Functions (timed out, or the execution ended)."""
    db.execute(f"UPDATE {GATES} SET decision = 'abandoned' WHERE job_id = %s AND stage = %s", (job_id, stage))


def decide_gate(job_id: str, stage: str, decision: str, round_: int | None = None) -> str | None:
    """Decide an open gate once, in one transaction (an approval also moves the job on).
    Returns its token, or None when the gate is not open (already decided, never reached,
    or another stage) or, with `round_`, is open at another round (a revision since)."""
    with db.connect() as conn, conn.cursor() as cur:
        token = _claim(cur, job_id, stage, decision, round_)
        if token is not None and decision == "approved":
            jobs.mark_gate_approved(cur, job_id, stage)
        return token


def revise_gate(
    job_id: str, stage: str, *, feedback: str | None, segments: list[int] | None, limit: int, round_: int | None = None
) -> tuple[str | None, str]:
    """Decide an open gate 'revised' with the user's feedback, at most `limit` rounds (and,
    with `round_`, only at that round). Returns (token, "revised"), or
    (None, "not_waiting" | "limit" | "stale_round")."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT revisions FROM {GATES} WHERE job_id = %s AND stage = %s AND decided_at IS NULL FOR UPDATE",
            (job_id, stage),
        )
        gate = cur.fetchone()
        if gate is None:
            return None, "not_waiting"
        if round_ is not None and gate[0] != round_:
            return None, "stale_round"
        if gate[0] >= limit:
            return None, "limit"
        token = _claim(cur, job_id, stage, "revised")
        cur.execute(
            f"UPDATE {GATES} SET revisions = revisions + 1, feedback = %s, redo_segments = %s"
            " WHERE job_id = %s AND stage = %s",
            (feedback, segments or None, job_id, stage),
        )
        return token, "revised"


def _claim(cur, job_id: str, stage: str, decision: str, round_: int | None = None) -> str | None:
    """An open gate (of round `round_`, when given), or one decided the same way long enough ago
    that the webhook which decided it must have died before Step Functions heard of it (never
    confirmed)."""
    cur.execute(
        f"UPDATE {GATES} SET decision = %s, decided_at = (now() AT TIME ZONE 'utc')"
        " WHERE job_id = %s AND stage = %s AND (%s::int IS NULL OR revisions = %s::int)"
        " AND (decided_at IS NULL OR (decision = %s AND %s <> 'revised'"
        " AND resumed_at IS NULL AND decided_at < (now() AT TIME ZONE 'utc') - %s * interval '1 second'))"
        " RETURNING task_token",
        (decision, job_id, stage, round_, round_, decision, decision, UNCONFIRMED_DECISION_SECONDS),
    )
    row = cur.fetchone()
    return row[0] if row else None


def confirm_resumed(job_id: str, stage: str, token: str) -> None:
    """Step Functions accepted the decision sent on `token`."""
    db.execute(
        f"UPDATE {GATES} SET resumed_at = (now() AT TIME ZONE 'utc'), unknown_decision = NULL"
        " WHERE job_id = %s AND stage = %s AND task_token = %s",
        (job_id, stage, token),
    )


def landed_decision(job_id: str, stage: str, token: str) -> str | None:
    """Step Functions says `token` is dead. If an earlier decision sent on it had an unknown
    outcome, that one landed: the gate is decided so (and confirmed), and it is returned."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT unknown_decision FROM {GATES} WHERE job_id = %s AND stage = %s AND task_token = %s FOR UPDATE",
            (job_id, stage, token),
        )
        row = cur.fetchone()
        landed = row[0] if row else None
        if landed is None:
            return None
        cur.execute(
            f"UPDATE {GATES} SET decision = %s, decided_at = (now() AT TIME ZONE 'utc'),"
            " resumed_at = (now() AT TIME ZONE 'utc'), unknown_decision = NULL"
            " WHERE job_id = %s AND stage = %s",
            (landed, job_id, stage),
        )
        if landed == "approved":
            jobs.mark_gate_approved(cur, job_id, stage)
        return landed


def reopen_gate(job_id: str, stage: str, decision: str, *, outcome_unknown: bool = False) -> None:
    """Undo a decision whose Step Functions call failed: the gate waits again, as does the job
    (and a revision round is given back). `outcome_unknown`: the call may have landed (a
    connection error, a read timeout), so the decision is remembered for `landed_decision`."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(
            f"UPDATE {GATES} SET decision = NULL, decided_at = NULL"
            + (", revisions = revisions - 1" if decision == "revised" else "")
            + (", unknown_decision = %s" if outcome_unknown else "")
            + " WHERE job_id = %s AND stage = %s AND decision = %s",
            ((decision,) if outcome_unknown else ()) + (job_id, stage, decision),
        )
        if cur.rowcount and decision == "approved":
            jobs.unmark_gate_approved(cur, job_id, stage)


def offer_redo_all(job_id: str, stage: str, words: str) -> int | None:
    """Keep the words written at the open gate `stage` until the user taps "redo all" (or
    writes again). Returns the gate's round, or None when that gate is not open."""
    row = db.query_one(
        f"UPDATE {GATES} SET offered_feedback = %s WHERE job_id = %s AND stage = %s"
        " AND decided_at IS NULL RETURNING revisions",
        (words, job_id, stage),
    )
    return row["revisions"] if row else None


def offered_feedback(job_id: str, stage: str, round_: int) -> str | None:
    """The words offered for "redo all" at that round of the open gate, or None."""
    row = db.query_one(
        f"SELECT offered_feedback FROM {GATES} WHERE job_id = %s AND stage = %s"
        " AND decided_at IS NULL AND revisions = %s",
        (job_id, stage, round_),
    )
    return row["offered_feedback"] if row else None


def withdraw_offer(job_id: str, stage: str, round_: int) -> bool:
    row = db.query_one(
        f"UPDATE {GATES} SET offered_feedback = NULL WHERE job_id = %s AND stage = %s"
        " AND revisions = %s AND offered_feedback IS NOT NULL RETURNING job_id",
        (job_id, stage, round_),
    )
    return row is not None
