"""The spend ledger (ai_video_bot.vendor_usage, migration 0014): one row per paid call. A call
reserves its estimate before it is made, in one transaction with the budget check under one
advisory lock, and is settled to its reported cost, or released, after. A job's estimate is
held at acceptance; each call draws its estimate from the hold, and only what the hold does not
cover is checked against the budgets again. `amount_usd` is what a row counts now; a trigger
adds every change of it to 5-minute slots (spend_slots), so the budget check sums at most 289
slots whatever the day's spend; the reconciler's sweep purges the slots older than that. Rows
outlive a cancelled job's cleared content: the money is spent. Prices and the seam every paid
call goes through are videobot.usage's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from psycopg2.extras import RealDictCursor

from videobot.data.db import Database
from videobot.errors import BudgetExceeded, DailyCapReached

TABLE = "ai_video_bot.vendor_usage"
SLOTS = "ai_video_bot.spend_slots"  # what the rows count, by user and 5-minute slot (a trigger's)
JOBS = "ai_video_bot.video_jobs_enhanced"
BUDGET_LOCK = 210_014  # pg_advisory_xact_lock key: every reservation and acceptance, in turn
WINDOW = "interval '24 hours'"
NOW = "(now() AT TIME ZONE 'utc')"
# the 5-minute slot the 24-hour window starts in: the oldest slot a budget check reads
WINDOW_START = f"date_bin('5 minutes', {NOW} - {WINDOW}, TIMESTAMP '2000-01-01')"
HELD, RESERVED, SETTLED, RELEASED = "held", "reserved", "settled", "released"


@dataclass(frozen=True)
class Budgets:
    """USD per user and bot-wide in any 24 hours (0: no budget)."""

    user_usd: float = 0.0
    bot_usd: float = 0.0


@dataclass(frozen=True)
class Call:
    """One paid call: its idempotency key (a retried Lambda finds its reservation), where it is
    spent and its estimate in USD and in the vendor's units."""

    key: str
    job_id: str | None  # None: a call for no job (a voice note transcribed with no job open)
    stage: str
    vendor: str
    model: str
    usd: float
    segment_index: int | None = None
    units: dict = field(default_factory=dict)  # seconds, credits, characters, tokens (estimated)
    user_id: int | None = None  # whose budget, when there is no job


@dataclass(frozen=True)
class Ask:
    """What a revision asked at a gate will spend, checked when the gate is taken: `usd` against
    the budgets (and held for it), its vendor generations (model -> count) against the models'
    daily caps (`caps`: model -> generations a day; a model not named has none)."""

    usd: float = 0.0
    budgets: Budgets = Budgets()
    generations: dict[str, int] = field(default_factory=dict)
    caps: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Spent:
    """What counts against the budgets now: settled costs, reservations in flight and holds."""

    user_usd: float
    bot_usd: float


def lock(cur) -> None:
    """Serialise reservations and acceptances (held until the transaction ends)."""
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (BUDGET_LOCK,))


def spent(cur, user_id: int | None) -> Spent:
    """The user's and everyone's last 24 hours, holds and reservations included: the 5-minute
    slots a trigger keeps (migration 0015), at most 289 of each, whatever the day's spend."""
    cur.execute(
        f"SELECT COALESCE(SUM(usd) FILTER (WHERE user_id = %s), 0) AS user_usd,"
        f" COALESCE(SUM(usd) FILTER (WHERE user_id = 0), 0) AS bot_usd FROM {SLOTS}"
        f" WHERE user_id IN (%s, 0) AND slot >= {WINDOW_START}",
        (user_id or -1, user_id or -1),
    )
    row = cur.fetchone()
    user_usd, bot_usd = row.values() if isinstance(row, dict) else row  # any cursor
    return Spent(float(user_usd), float(bot_usd))


def purge_slots(db: Database) -> int:
    """Forget the 5-minute slots older than the oldest one a budget check reads (the slot that
    holds the start of the 24-hour window stays): the table stays a day of slots per user."""
    return db.execute(f"DELETE FROM {SLOTS} WHERE slot < {WINDOW_START}")


def check(cur, user_id: int | None, usd: float, budgets: Budgets) -> Spent:
    """Raise BudgetExceeded when `usd` more does not fit the user's or the bot-wide budget."""
    now = spent(cur, user_id)
    for scope, used, budget in (("user", now.user_usd, budgets.user_usd), ("bot", now.bot_usd, budgets.bot_usd)):
        if budget and (used >= budget or used + usd > budget + 1e-9):
            raise BudgetExceeded(scope, used, budget, usd)
    return now


def hold(cur, job_id: str, usd: float) -> None:
    """Hold a new job's estimate (once per job), under `lock` after `check`."""
    cur.execute(
        f"INSERT INTO {TABLE} (job_id, user_id, stage, vendor, model, call_key, state, reserved_usd, amount_usd)"
        f" SELECT id, user_id, 'accept_topic', 'budget', 'job', %s, '{HELD}', %s, %s FROM {JOBS} WHERE id = %s"
        " ON CONFLICT (call_key) DO NOTHING",
        (f"hold:{job_id}", usd, usd, job_id),
    )


def hold_more(cur, job_id: str, usd: float, budgets: Budgets) -> None:
    """Add `usd` to a job's hold (a revision asked at a gate), under `lock`, once it fits the
    budgets on top of all that counts now (the job's hold for its remaining stages included):
    BudgetExceeded, and nothing held, when it does not. The revision's calls then draw on it."""
    cur.execute(f"SELECT user_id FROM {JOBS} WHERE id = %s", (job_id,))
    row = cur.fetchone()
    check(cur, _first(row, "user_id") if row else None, usd, budgets)
    cur.execute(
        f"INSERT INTO {TABLE} (job_id, user_id, stage, vendor, model, call_key, state, reserved_usd, amount_usd)"
        f" SELECT id, user_id, 'accept_topic', 'budget', 'job', %s, '{HELD}', %s, %s FROM {JOBS} WHERE id = %s"
        f" ON CONFLICT (call_key) DO UPDATE SET reserved_usd = {TABLE}.reserved_usd + EXCLUDED.reserved_usd,"
        f" amount_usd = {TABLE}.amount_usd + EXCLUDED.amount_usd WHERE {TABLE}.state = '{HELD}'",
        (f"hold:{job_id}", usd, usd, job_id),
    )


def hold_less(db: Database, job_id: str, usd: float) -> None:
    """Take back what `hold_more` added for a revision Step Functions never took."""
    db.execute(
        f"UPDATE {TABLE} SET reserved_usd = GREATEST(reserved_usd - %s, 0), amount_usd = GREATEST(amount_usd - %s, 0)"
        f" WHERE call_key = %s AND state = '{HELD}'",
        (usd, usd, f"hold:{job_id}"),
    )


def job_counted(db: Database, job_id: str) -> float:
    """What one job counts against the budgets now: its hold, its reservations and its costs of
    the last 24 hours (the part of a user's spending that stays while the job lives)."""
    row = db.query_one(
        f"SELECT COALESCE(SUM(amount_usd), 0) AS usd FROM {TABLE} WHERE job_id = %s AND recorded_at > {NOW} - {WINDOW}",
        (job_id,),
    )
    return float(row["usd"]) if row else 0.0


def release_hold(cur, job_id: str) -> None:
    """A job ended: what it had not yet spent of its hold no longer counts."""
    cur.execute(
        f"UPDATE {TABLE} SET state = '{RELEASED}', amount_usd = 0, settled_at = {NOW}"
        f" WHERE call_key = %s AND state = '{HELD}'",
        (f"hold:{job_id}",),
    )


def _insert(cur, call: Call, user_id: int | None) -> dict:
    u = call.units
    cur.execute(
        f"INSERT INTO {TABLE} (job_id, user_id, stage, segment_index, vendor, model, call_key, state,"
        " reserved_usd, amount_usd, seconds, credits, characters, input_tokens, output_tokens)"
        f" VALUES (%s, %s, %s, %s, %s, %s, %s, '{RESERVED}', %s, %s, %s, %s, %s, %s, %s)"
        # a key released before (a create refused with nothing started) is reserved again
        f" ON CONFLICT (call_key) DO UPDATE SET state = '{RESERVED}', reserved_usd = EXCLUDED.reserved_usd,"
        f" amount_usd = EXCLUDED.amount_usd, recorded_at = {NOW}, settled_at = NULL, task_id = NULL RETURNING *",
        (
            call.job_id,
            user_id,
            call.stage,
            call.segment_index,
            call.vendor,
            call.model,
            call.key,
            call.usd,
            call.usd,
            float(u.get("seconds", 0)),
            float(u.get("credits", 0)),
            int(u.get("characters", 0)),
            int(u.get("input_tokens", 0)),
            int(u.get("output_tokens", 0)),
        ),
    )
    return cur.fetchone()


def _reserve_in(cur, calls: list[Call], budgets: Budgets) -> list[dict]:
    """Reserve calls of one job (under `lock`): a key already in the ledger is its own row; the
    rest draw on the job's hold, and what it does not cover must fit the budgets."""
    job_id = calls[0].job_id
    cur.execute(f"SELECT user_id FROM {JOBS} WHERE id = %s", (job_id,))
    job = cur.fetchone()
    user_id = job["user_id"] if job else calls[0].user_id
    cur.execute(f"SELECT * FROM {TABLE} WHERE call_key = ANY(%s) AND state <> '{RELEASED}'", ([c.key for c in calls],))
    known = {r["call_key"]: r for r in cur.fetchall()}
    new = [c for c in calls if c.key not in known]
    if not new:
        return [known[c.key] for c in calls]
    usd = sum(c.usd for c in new)
    cur.execute(
        f"SELECT amount_usd FROM {TABLE} WHERE call_key = %s AND state = '{HELD}' FOR UPDATE", (f"hold:{job_id}",)
    )
    held = cur.fetchone()
    left = float(held["amount_usd"]) if held else 0.0
    if usd > left:
        check(cur, user_id, usd - left, budgets)
    if held:
        cur.execute(
            f"UPDATE {TABLE} SET amount_usd = GREATEST(amount_usd - %s, 0) WHERE call_key = %s",
            (usd, f"hold:{job_id}"),
        )
    made = {c.key: _insert(cur, c, user_id) for c in new}
    return [known.get(c.key) or made[c.key] for c in calls]


def reserve(db: Database, calls: list[Call], budgets: Budgets, caps: dict[str, int] | None = None) -> list[dict]:
    """Reserve calls of one job before they are made, in one transaction: BudgetExceeded when
    they do not fit the budgets; DailyCapReached when a model's generations of the last 24 hours
    (every job's, reservations included) and these would pass its daily cap (`caps`: model ->
    generations a day; a model not named has none), with when enough of them leave the window.
    Returns their rows (an existing one for a key reserved before: a retried Lambda)."""
    with db.connect() as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        lock(cur)
        cur.execute(
            f"SELECT call_key FROM {TABLE} WHERE call_key = ANY(%s) AND state <> '{RELEASED}'",
            ([c.key for c in calls],),
        )
        known = {r["call_key"] for r in cur.fetchall()}
        wanted: dict[str, int] = {}
        for c in calls:
            if c.key not in known:
                wanted[c.model] = wanted.get(c.model, 0) + 1
        check_generations(cur, wanted, caps or {})
        return _reserve_in(cur, calls, budgets) if calls else []


def check_generations(cur, wanted: dict[str, int], caps: dict[str, int]) -> None:
    """Raise DailyCapReached when a model's generations of the last 24 hours (every job's,
    reservations included) and the `wanted` ones (model -> count) would pass its daily cap, with
    when enough of them leave the window (None: more than a whole day's cap is wanted)."""
    for model, count in wanted.items():
        cap = caps.get(model)
        if not cap:
            continue
        times = generation_times(cur, model)
        if len(times) + count > cap:
            # the day frees up one generation as each of the oldest leaves the window
            need = len(times) + count - cap
            resets = times[need - 1] + timedelta(hours=24) if need <= len(times) else None
            raise DailyCapReached(model, cap, len(times), count, resets)


def generation_times(cur, model: str) -> list[datetime]:
    """When each of the model's generations of the last 24 hours was reserved, oldest first
    (vendor_usage_generations_idx)."""
    cur.execute(
        f"SELECT recorded_at FROM {TABLE} WHERE vendor = 'runway' AND state <> '{RELEASED}' AND model = %s"
        f" AND recorded_at > {NOW} - {WINDOW} ORDER BY recorded_at",
        (model,),
    )
    return [_first(r, "recorded_at") for r in cur.fetchall()]


def _first(row, name: str):
    """A row's first column, `name`, from either kind of cursor: `reserve`'s dict rows or the
    tuples of `gates.revise_gate`'s cursor, which calls `hold_more` and `check_generations`."""
    return row[name] if isinstance(row, dict) else row[0]


def settle(db: Database, key: str, usd: float, **units) -> dict | None:
    """The call was made: it counts what it cost (and its units), once. Returns
    {vendor, reserved, usd} when this call settled it, else None."""
    sets = "".join(f", {name} = %s" for name in units)
    return db.query_one(
        f"UPDATE {TABLE} SET state = '{SETTLED}', amount_usd = %s{sets},"
        f" settled_at = COALESCE(settled_at, {NOW}) WHERE call_key = %s AND state = '{RESERVED}'"
        " RETURNING vendor, reserved_usd AS reserved, amount_usd AS usd",
        (usd, *units.values(), key),
    )


def release(db: Database, key: str) -> bool:
    """The call was never made (or refunded before it ran): its reservation no longer counts."""
    return (
        db.execute(
            f"UPDATE {TABLE} SET state = '{RELEASED}', amount_usd = 0, settled_at = {NOW}"
            f" WHERE call_key = %s AND state = '{RESERVED}'",
            (key,),
        )
        == 1
    )


def attach_task(db: Database, key: str, task_id: str) -> None:
    """The vendor accepted the call as a task: its id, to settle it when a poll sees it end."""
    db.execute(f"UPDATE {TABLE} SET task_id = %s WHERE call_key = %s", (task_id, key))


def task_key(db: Database, job_id: str, task_id: str) -> dict | None:
    """The job's reservation of a vendor task (the newest, should a vendor reuse an id)."""
    return db.query_one(
        f"SELECT call_key, model, seconds, state, reserved_usd FROM {TABLE} WHERE job_id = %s AND task_id = %s"
        " ORDER BY id DESC LIMIT 1",
        (job_id, task_id),
    )


def task_running(db: Database, job_id: str, task_id: str):
    """A poll saw the task RUNNING: its queue time ends here (the first time only). Returns
    when it was first seen running (None for a task not recorded)."""
    db.execute(
        f"UPDATE {TABLE} SET running_at = now() AT TIME ZONE 'utc'"
        f" WHERE job_id = %s AND task_id = %s AND running_at IS NULL AND state = '{RESERVED}'",
        (job_id, task_id),
    )
    row = db.query_one(
        f"SELECT running_at FROM {TABLE} WHERE job_id = %s AND task_id = %s ORDER BY id DESC LIMIT 1",
        (job_id, task_id),
    )
    return row["running_at"] if row else None


def recent_task_seconds(db: Database, model: str, limit: int = 20) -> list[float]:
    """How long the model's last tasks ran (from leaving the queue to their end), newest first."""
    rows = db.query(
        f"SELECT EXTRACT(EPOCH FROM settled_at - COALESCE(running_at, recorded_at)) AS seconds"
        f" FROM {TABLE} WHERE model = %s AND settled_at IS NOT NULL AND task_id IS NOT NULL"
        f" AND state = '{SETTLED}' ORDER BY settled_at DESC LIMIT %s",
        (model, limit),
    )
    return [float(r["seconds"]) for r in rows]


def accepted_task(db: Database, key: str) -> str | None:
    """The task id attached to a call still reserved: the vendor accepted it and no poll has
    seen it end (a task seen ending is settled, so a resubmit never finds its predecessor)."""
    row = db.query_one(
        f"SELECT task_id FROM {TABLE} WHERE call_key = %s AND state = '{RESERVED}' AND task_id IS NOT NULL", (key,)
    )
    return row["task_id"] if row else None


def model_of_task(db: Database, task_id: str) -> str | None:
    row = db.query_one(f"SELECT model FROM {TABLE} WHERE task_id = %s", (task_id,))
    return row["model"] if row else None


def rows(db: Database, job_id: str) -> list[dict]:
    """The job's paid calls (not its hold), in order."""
    return db.query(f"SELECT * FROM {TABLE} WHERE job_id = %s AND vendor <> 'budget' ORDER BY id", (job_id,))
