"""Issue 21 items 1-4 and row #74: one spend ledger, with reservations. Every paid call goes
through `usage.paid_call` (reserved before, settled or released after), priced in its vendor's
unit; the budget check counts jobs in flight; Runway's daily cap is reserved before a Map starts;
twenty strangers at once stay within the bot-wide budget. Each test asserts what the user sees
and what the ledger stores."""

from __future__ import annotations

import ast
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import generate_script.app as generate_script
import pytest
import reconcile_execution.app as reconcile
import split_into_segments.app as split_into_segments
import write_image_prompts.app as write_image_prompts

from tests.fakes.fixtures import openai_vars
from tests.fakes.telegram_fixtures import TelegramUser, fake_telegram, lambda_poster, telegram  # noqa: F401
from tests.helpers import StartingStepFunctions, new_job, record_paid, replace_part, use
from videobot import lifecycle, usage
from videobot.data import jobs, ledger, segments
from videobot.errors import BudgetExceeded, DailyCapReached
from videobot.providers.base import ImageRequest
from videobot.stages import transcribe_voice_topic
from videobot.stages import write_image_prompts as image_prompts_stage
from videobot.stages.generate_images import IMAGES
from videobot.stages.generate_script import revise_script

PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "videobot"
ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:vp"
OGG = b"OggS\x00\x02" + bytes(range(256)) * 20


# ---- the seam: no paid call outside it ---------------------------------------------------------

# Every paid method of the provider interfaces (videobot.providers.base).
PAID_METHODS = {
    "write_script",
    "write_image_prompts",
    "write_animation_prompts",
    "revise_image_prompts",
    "revise_animation_prompts",
    "shorten_narration",
    "synthesize",
    "transcribe",
    "submit",
}


def _paid_calls_outside_the_ledger(tree: ast.AST) -> list[int]:
    """Lines calling a paid provider method (`<x>.<paid>(...)`) not inside `with
    usage.paid_call(...)`."""
    found: list[int] = []

    def visit(node: ast.AST, inside: bool) -> None:
        if isinstance(node, ast.With):
            inside = inside or any(
                isinstance(item.context_expr, ast.Call)
                and isinstance(item.context_expr.func, ast.Attribute)
                and item.context_expr.func.attr == "paid_call"
                for item in node.items
            )
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in PAID_METHODS
            and not inside
        ):
            found.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


def test_every_paid_provider_call_is_made_inside_the_ledgers_seam():
    outside = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "providers" in path.parts:  # the providers themselves (a fallback voice calls its primary)
            continue
        lines = _paid_calls_outside_the_ledger(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            outside[str(path.relative_to(PACKAGE))] = lines
    assert outside == {}
    # and the check sees a call made after the fact, as the old usage.record_llm was
    assert _paid_calls_outside_the_ledger(ast.parse("s = rt.llm.write_script(t)\nusage.record_llm(db, s)")) == [1]


class _Spy:
    """A provider part whose paid calls record what the ledger held for the job at that moment."""

    def __init__(self, db, inner, job_id_of):
        self.db, self.inner, self.job_id_of, self.seen = db, inner, job_id_of, []

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name not in PAID_METHODS:
            return attr

        def paid(*args, **kwargs):
            job_id = self.job_id_of()
            self.seen.append(
                [(r["stage"], r["state"]) for r in usage.rows(self.db, job_id) if r["state"] == "reserved"]
            )
            return attr(*args, **kwargs)

        return paid


def test_each_stage_reserves_before_its_vendor_call_and_settles_after(rt, db, monkeypatch):
    job = new_job(db)
    job_id = lambda: job["id"]  # noqa: E731
    spies = {name: _Spy(db, getattr(rt, name), job_id) for name in ("llm", "images", "speech")}
    for name, spy in spies.items():
        replace_part(monkeypatch, rt, name, spy)
    for handler in (generate_script, split_into_segments, write_image_prompts):
        handler.lambda_handler.run(rt, {"job_id": job["id"]})
    IMAGES.submit(rt, job["id"], 0, rt.settings.execution())
    from videobot.stages import record_voiceover

    record_voiceover.record_voiceover(rt, job["id"])
    # at each vendor call its own reservation was in flight
    assert spies["llm"].seen[0] == [("generate_script", "reserved")]
    assert ("write_image_prompts", "reserved") in spies["llm"].seen[1]
    assert ("generate_images", "reserved") in spies["images"].seen[0]  # reserved before the Map
    assert all(("record_voiceover", "reserved") in seen for seen in spies["speech"].seen)
    assert len(spies["speech"].seen) == 10
    # and after each, it is settled: nothing of these stages is left reserved but the Map's
    states = {(r["stage"], r["state"]) for r in usage.rows(db, job["id"]) if r["stage"] != "generate_images"}
    assert states == {
        ("generate_script", "settled"),
        ("write_image_prompts", "settled"),
        ("record_voiceover", "settled"),
    }


# ---- item 1: jobs in flight, revisions, and the estimate alone ----------------------------------


@pytest.fixture
def priced(rt, monkeypatch):
    """Runway-priced images and clips (5 credits an image, 25 a clip): a job's estimate is $3.00."""

    class Images:
        def estimate(self, request):
            return {"vendor": "runway", "model": "gen4_image", "seconds": 0, "credits": 5}

        def submit(self, request):  # never reached in these tests: nothing may start
            raise AssertionError("a task was started")

    class Clips(Images):
        def estimate(self, request):
            return {"vendor": "runway", "model": "gen4_turbo", "seconds": request.duration, "credits": 25}

    replace_part(monkeypatch, rt, "sfn", StartingStepFunctions())
    replace_part(monkeypatch, rt, "images", Images())
    replace_part(monkeypatch, rt, "clips", Clips())


def _record_failure(rt, job_id: str, exc: Exception) -> dict:
    """RecordFailure as the state machine's Catch calls it with a Lambda's error."""
    name = type(exc).__name__
    cause = json.dumps({"errorType": name, "errorMessage": str(exc)})
    return lifecycle.record_failure(rt, job_id, {"Error": name, "Cause": cause})


def _users(telegram, setup, n: int) -> list[TelegramUser]:
    return [TelegramUser(telegram, lambda_poster(lambda: setup.rt)) for _ in range(n)]


def _held(db, users: list[TelegramUser]) -> list[float]:
    rows = db.query(
        f"SELECT amount_usd FROM {ledger.TABLE} WHERE state = 'held' AND user_id = ANY(%s)",
        ([u.user_id for u in users],),
    )
    return sorted(float(r["amount_usd"]) for r in rows)


def test_a_job_in_flight_counts_against_the_bot_wide_budget(setup, rt, db, telegram, priced):
    base = usage.spent(db).bot_usd  # what this session's other jobs hold or spent
    first, second = _users(telegram, setup, 2)
    with use(
        setup,
        STATE_MACHINE_ARN=ARN,
        MAX_USD_PER_DAY=f"{base + 5:.2f}",
        MAX_USD_PER_USER_PER_DAY="0",
        MAX_JOBS_PER_USER_PER_DAY="0",
    ):
        assert first.say("Реклама кофе") == 200
        assert second.say("Реклама чая") == 200  # the first job has spent nothing yet: it is in flight
    assert first.texts()[-1].startswith("✅ Запрос принят!")
    assert second.texts()[-1] == (
        f"⛔ За последние сутки ролики всех пользователей бота стоили ${base + 3:.2f}, а общий дневной бюджет "
        f"бота — ${base + 5:.2f}. Новый ролик стоит ≈ $3.00 и в бюджет уже не помещается. Попробуйте позже."
    )
    assert jobs.active_job_for_chat(db, second.chat_id) is None
    assert _held(db, [first, second]) == [3.0]
    # when the first job ends, what it had not spent is released
    jobs.finish_job(db, jobs.active_job_for_chat(db, first.chat_id).id, "cancelled")
    assert _held(db, [first]) == [] and usage.spent(db).bot_usd == pytest.approx(base)


def test_a_revision_is_checked_against_the_budget_before_the_llm_is_called(setup, rt, db, fake_openai, telegram):
    [user] = _users(telegram, setup, 1)
    job = new_job(db, user_id=user.user_id, chat_id=user.chat_id)
    with use(setup, **openai_vars(fake_openai), LLM_PROVIDER="openai", MAX_USD_PER_USER_PER_DAY="1") as tuned:
        record_paid(db, job["id"], 1.0, stage="generate_script", vendor="openai", model="gpt-5.4-mini")
        with pytest.raises(BudgetExceeded, match=r"user budget of \$1.00") as over:
            revise_script(tuned, job["id"], "короче")
    assert fake_openai.calls("POST /v1/responses") == []  # nothing paid for
    assert [r["stage"] for r in usage.rows(db, job["id"])] == ["generate_script"]  # nothing reserved
    # RecordFailure ends the job on it (not a fault) and says why
    assert _record_failure(rt, job["id"], over.value)["fault"] is False
    assert user.texts()[-1] == (
        f"⛔ Задача {job['id']} остановлена: дневной бюджет исчерпан, за следующий шаг платить нечем. "
        "Ничего больше не запущено."
    )


def test_an_estimate_over_the_whole_budget_says_so_not_come_back_at_0(setup, rt, db, telegram, priced):
    [user] = _users(telegram, setup, 1)
    with use(setup, STATE_MACHINE_ARN=ARN, MAX_USD_PER_USER_PER_DAY="2", MAX_JOBS_PER_USER_PER_DAY="0"):
        assert user.say("Реклама кофе") == 200
    assert user.texts()[-1] == (
        "⛔ Ролик стоит ≈ $3.00, а дневной бюджет — $2.00: такой ролик в него не помещается. "
        "Выберите модель видео дешевле в /settings."
    )
    assert "$0.00" not in user.texts()[-1] and jobs.active_job_for_chat(db, user.chat_id) is None


# ---- item 4 (and #74): strangers at once ---------------------------------------------------------


def test_twenty_strangers_starting_at_once_stay_within_the_bot_wide_budget(
    setup, rt, db, telegram, priced, monkeypatch
):
    # 20 webhooks at once need about two connections each: the session's pool of 32 is the
    # database-pool issue's (item 17), not this one's
    monkeypatch.setattr(db._connections(), "maxconn", 64)
    base = usage.spent(db).bot_usd
    users = _users(telegram, setup, 20)
    barrier = threading.Barrier(len(users))

    def start(user: TelegramUser) -> int:
        update = user.message_update("Реклама кофе")
        barrier.wait()
        return user.post(update)

    env = {
        "ALLOWED_USER_IDS": "*",
        "STATE_MACHINE_ARN": ARN,
        "MAX_USD_PER_DAY": f"{base + 10:.2f}",  # room for three $3.00 jobs
        "MAX_USD_PER_USER_PER_DAY": "0",
        "MAX_JOBS_PER_USER_PER_DAY": "0",
    }
    with use(setup, **env), ThreadPoolExecutor(len(users)) as pool:
        assert list(pool.map(start, users)) == [200] * 20
    said = [u.texts() for u in users]
    accepted = [s for s in said if len(s) == 1 and s[0].startswith("✅ Запрос принят!")]
    refused = [s for s in said if len(s) == 1 and s[0].startswith("⛔ За последние сутки ролики всех")]
    assert (len(accepted), len(refused)) == (3, 17)  # every user answered once
    assert _held(db, users) == [3.0, 3.0, 3.0]
    assert usage.spent(db).bot_usd == pytest.approx(base + 9) and usage.spent(db).bot_usd <= base + 10
    started = db.query(
        f"SELECT id FROM {jobs.JOBS} WHERE user_id = ANY(%s) AND execution_arn IS NOT NULL",
        ([u.user_id for u in users],),
    )
    assert len(started) == 3  # and only theirs were started


# ---- item 3: Runway's daily cap ------------------------------------------------------------------


def test_the_fake_runway_refuses_past_the_daily_cap_and_the_client_does_not_retry(rt, runway_env):
    runway_env.daily_cap = 2
    for seed in range(2):
        rt.images.submit(ImageRequest(prompt="Coffee", ratio="16:9", seed=seed))
    with pytest.raises(DailyCapReached, match="gen4_image"):
        rt.images.submit(ImageRequest(prompt="Coffee", ratio="16:9", seed=3))
    assert len(runway_env.calls("POST /v1/text_to_image")) == 3  # a 429 for the day is not retried


def test_a_stage_that_does_not_fit_the_daily_cap_starts_nothing_and_says_when(setup, rt, db, telegram, monkeypatch):
    model = f"gen4_image-{uuid.uuid4().hex[:8]}"  # this test's own model: the day's count is its own

    class Images:
        def estimate(self, request):
            return {"vendor": "runway", "model": model, "seconds": 0, "credits": 5}

    replace_part(monkeypatch, rt, "images", Images())
    [user] = _users(telegram, setup, 1)
    other = new_job(db, user_id=user.user_id + 1, chat_id=user.chat_id + 1)
    for _ in range(45):  # 45 of the model's 50 generations used in the last 24 hours
        record_paid(db, other["id"], 0.05, stage="generate_images", model=model, task_id=uuid.uuid4().hex)
    db.execute(
        f"UPDATE {ledger.TABLE} SET recorded_at = recorded_at - interval '20 hours' + id * interval '1 second'"
        " WHERE model = %s",
        (model,),
    )
    oldest = [
        r["recorded_at"]
        for r in db.query(f"SELECT recorded_at FROM {ledger.TABLE} WHERE model = %s ORDER BY 1", (model,))
    ]
    job = new_job(db, user_id=user.user_id, chat_id=user.chat_id)
    generate_script.lambda_handler.run(rt, {"job_id": job["id"]})
    split_into_segments.lambda_handler.run(rt, {"job_id": job["id"]})
    with use(setup, RUNWAY_DAILY_GENERATIONS="50") as tuned, pytest.raises(DailyCapReached) as reached:
        image_prompts_stage.write_image_prompts(tuned, job["id"])
    # 45 + 10 > 50: the fifth oldest generation must leave the window first
    assert reached.value.resets_at == oldest[4] + timedelta(hours=24)
    assert [r for r in usage.rows(db, job["id"]) if r["stage"] == "generate_images"] == []  # nothing reserved
    assert all(not s.image_runway_task_id for s in segments.get_segments(db, job["id"]))  # nothing started
    # RecordFailure ends the job on it (not a fault) and tells the user when the cap frees up
    assert _record_failure(rt, job["id"], reached.value)["fault"] is False
    assert user.texts()[-1] == (
        f"⛔ Задача {job['id']} остановлена до генерации: дневной лимит генераций Runway для этой модели "
        f"исчерпан. Ничего не запущено. Лимит освободится после {(oldest[4] + timedelta(hours=24)):%Y-%m-%d %H:%M} UTC."
    )


def test_the_stages_generations_are_reserved_once_and_the_submits_use_them(rt, db, prompted_job, runway_env):
    job_id = prompted_job["id"]  # WriteImagePrompts ran: its Map's ten images are reserved
    planned = [r for r in usage.rows(db, job_id) if r["stage"] == "generate_images"]
    assert [(r["segment_index"], r["state"], r["task_id"]) for r in planned] == [
        (i, "reserved", None) for i in range(10)
    ]
    image_prompts_stage.write_image_prompts(rt, job_id)  # a retried Lambda reserves nothing more
    IMAGES.submit(rt, job_id, 0, rt.settings.execution())
    rows = [r for r in usage.rows(db, job_id) if r["stage"] == "generate_images"]
    assert len(rows) == 10 and rows[0]["task_id"] == segments.get_segment(db, job_id, 0).image_runway_task_id


# ---- prices in the vendor's unit -----------------------------------------------------------------


def test_a_failed_task_is_settled_at_the_cost_runway_reports(rt, db, prompted_job, runway_env):
    job_id = prompted_job["id"]
    # a bad output is refunded (cost 0) and resubmitted at once; the new task succeeds
    runway_env.plan("text_to_image", ["FAILED"], seed=0, failure_code="INTERNAL.BAD_OUTPUT.CODE01")
    step = IMAGES.submit(rt, job_id, 0, rt.settings.execution())
    while step["state"] != "done":
        step = IMAGES.check(rt, job_id, 0, step["attempt"], rt.settings.execution())
    tasks = [r for r in usage.rows(db, job_id) if r["task_id"]]
    assert [(r["state"], float(r["amount_usd"]), r["credits"]) for r in tasks] == [
        ("settled", 0.0, 0.0),
        ("settled", 0.05, 5.0),
    ]
    # an input refused by moderation (SAFETY.INPUT.*) is billed: Runway reports its cost
    runway_env.plan("text_to_image", ["FAILED"], seed=1, failure_code="SAFETY.INPUT.IMAGE")
    assert IMAGES.submit(rt, job_id, 1, rt.settings.execution())["state"] == "refused"
    refused = [r for r in usage.rows(db, job_id) if r["task_id"] and r["segment_index"] == 1]
    assert [(r["state"], float(r["amount_usd"])) for r in refused] == [("settled", 0.02)]
    assert usage.summary(db, job_id)["runway_credits"] == 0 + 5 + 2


def test_a_transcription_is_priced_by_the_minute_or_by_its_tokens(setup, rt, db, fake_openai, monkeypatch):
    from videobot.providers.base import ChatFile

    class Files:
        def download(self, file_id, *, max_bytes):
            return ChatFile(OGG, "file_1.oga")

    replace_part(monkeypatch, rt, "chat_files", Files())
    for model, seconds, expected in (
        ("gpt-transcribe", 90.0, 90 / 60 * 0.0045),
        ("gpt-4o-mini-transcribe", None, None),
    ):
        job = new_job(db, "", voice_file_id="voice-1")
        fake_openai.audio_seconds = seconds
        with use(setup, **openai_vars(fake_openai), OPENAI_TRANSCRIBE_MODEL=model) as tuned:
            transcribe_voice_topic.transcribe_voice_topic(tuned, job["id"])
        [row] = usage.rows(db, job["id"])
        if expected is not None:  # {type: "duration", seconds: 90}: 1.5 minutes at 0.0045 USD
            assert (float(row["amount_usd"]), row["audio_seconds"]) == (pytest.approx(expected, abs=1e-6), 90.0)
        else:  # token usage: priced by its tokens
            assert row["input_tokens"] > 0 and float(row["amount_usd"]) == pytest.approx(
                usage.llm_usd(model, row["input_tokens"], row["output_tokens"]), abs=1e-6
            )
        assert row["state"] == "settled"


def test_realtime_speech_is_priced_by_its_audio_output_tokens(setup, rt, db, fake_openai):
    from videobot.stages import record_voiceover

    job = new_job(db)
    for handler in (generate_script, split_into_segments):
        handler.lambda_handler.run(rt, {"job_id": job["id"]})
    with use(setup, **openai_vars(fake_openai), TTS_PROVIDER="openai", TTS_FALLBACK_PROVIDER="none") as tuned:
        record_voiceover.record_voiceover(tuned, job["id"])
    rows = usage.rows(db, job["id"])
    parts = [r for r in rows if r["stage"] == "record_voiceover"]
    assert len(parts) == 10 and all(r["state"] == "settled" for r in parts)
    # the fake bills 50 audio tokens a second of 24 kHz speech: 20 USD a million, not per character
    for r in parts:
        assert float(r["amount_usd"]) > 0 and float(r["amount_usd"]) != pytest.approx(r["characters"] * 20 / 1e6)


def test_a_redo_at_the_gate_reserves_and_pays_a_new_task_never_the_first_ones(rt, db, prompted_job, runway_env):
    from videobot.data import gates
    from videobot.pipeline import GateId
    from videobot.stages import revise_stage

    job_id = prompted_job["id"]
    step = IMAGES.submit(rt, job_id, 0, rt.settings.execution())
    while step["state"] != "done":
        step = IMAGES.check(rt, job_id, 0, step["attempt"], rt.settings.execution())
    # the user asks for segment 1 again at the images gate ("переделай 1"): RedoImages
    gates.open_gate(db, job_id, GateId("images"), f"token-{job_id}")
    gates.revise_gate(db, job_id, GateId("images"), feedback="светлее", segments=[0], limit=3)
    assert revise_stage.revise_stage(rt, job_id, GateId("images"))["segments"] == [0]
    step = IMAGES.submit(rt, job_id, 0, rt.settings.execution())
    while step["state"] != "done":
        step = IMAGES.check(rt, job_id, 0, step["attempt"], rt.settings.execution())
    first = [r for r in usage.rows(db, job_id) if r["segment_index"] == 0 and r["stage"] == "generate_images"]
    assert [(r["state"], float(r["amount_usd"])) for r in first] == [("settled", 0.05), ("settled", 0.05)]
    assert len({r["call_key"] for r in first}) == 2 and len(runway_env.created("text_to_image")) == 2


def test_the_budget_slots_follow_every_change_of_the_ledger(rt, db):
    """The check reads the 5-minute slots a trigger keeps; they equal the rows' own sum after a
    hold, a draw on it, a settle, a release, an end, and a row moved in time."""
    job = new_job(db, user_id=7_200_000_000 + uuid.uuid4().int % 10**6)
    user = job["user_id"]

    def direct() -> float:
        row = db.query_one(
            f"SELECT COALESCE(SUM(amount_usd), 0) AS usd FROM {ledger.TABLE}"
            " WHERE user_id = %s AND recorded_at > (now() AT TIME ZONE 'utc') - interval '24 hours'",
            (user,),
        )
        return float(row["usd"])

    with db.connect() as conn, conn.cursor() as cur:
        ledger.hold(cur, job["id"], 3.0)
    assert usage.spent(db, user).user_usd == direct() == 3.0
    call = ledger.Call(f"slot-test:{uuid.uuid4().hex}", job["id"], "generate_script", "openai", "m", 0.5)
    ledger.reserve(db, [call], ledger.Budgets())  # drawn from the hold: 2.5 held, 0.5 reserved
    ledger.settle(db, call.key, 0.2)
    assert usage.spent(db, user).user_usd == pytest.approx(direct()) == pytest.approx(2.7)
    other = ledger.Call(f"slot-test:{uuid.uuid4().hex}", job["id"], "generate_script", "openai", "m", 4.0)
    ledger.reserve(db, [other], ledger.Budgets())
    ledger.release(db, other.key)
    jobs.finish_job(db, job["id"], "completed")  # the hold's rest released
    assert usage.spent(db, user).user_usd == pytest.approx(direct()) == pytest.approx(0.2)
    db.execute(f"UPDATE {ledger.TABLE} SET recorded_at = recorded_at - interval '25 hours' WHERE user_id = %s", (user,))
    assert usage.spent(db, user).user_usd == direct() == 0.0


def test_the_sweep_purges_the_slots_no_budget_window_reads_and_keeps_the_rest(rt, db):
    """The 5-minute slots grew forever. The reconciler's sweep drops those older than the slot
    the 24-hour window starts in; what the budget check sums stays, and so does its answer."""
    user = 7_300_000_000 + uuid.uuid4().int % 10**6
    start = "date_bin('5 minutes', (now() AT TIME ZONE 'utc') - interval '24 hours', TIMESTAMP '2000-01-01')"
    ages = {"old": f"{start} - interval '3 days'", "just_out": f"{start} - interval '5 minutes'", "first": start}
    ages["recent"] = f"{start} + interval '23 hours'"
    for name, slot in ages.items():
        db.execute(f"INSERT INTO {ledger.SLOTS} (user_id, slot, usd) VALUES (%s, {slot}, %s)", (user, len(name)))
    before = usage.spent(db, user).user_usd
    assert before == len("first") + len("recent")

    result = reconcile.lambda_handler.run(rt, {"detail-type": "Scheduled Event", "source": "aws.events"})
    assert result["purged_spend_slots"] >= 2
    kept = db.query(f"SELECT usd FROM {ledger.SLOTS} WHERE user_id = %s ORDER BY slot", (user,))
    assert [float(r["usd"]) for r in kept] == [len("first"), len("recent")]
    assert usage.spent(db, user).user_usd == before
    assert db.query_one(f"SELECT 1 FROM {ledger.SLOTS} WHERE slot < {start} LIMIT 1") is None  # nobody's


# ---- the ledger's task queries (data/ledger.py), each filter and each answer checked ------------


def _task(db, job_id: str, task_id: str | None, model: str = "gen4_turbo", *, settle: float | None = None) -> str:
    """A reserved Runway task of the job, attached as `task_id` (None: not accepted yet), settled
    at `settle` USD when given. Returns its key."""
    key = f"task-test:{uuid.uuid4().hex}"
    ledger.reserve(db, [ledger.Call(key, job_id, "generate_clips", "runway", model, 0.25)], ledger.Budgets())
    if task_id:
        ledger.attach_task(db, key, task_id)
    if settle is not None:
        ledger.settle(db, key, settle)
    return key


def _ledger_row(db, key: str) -> dict:
    return db.query_one(f"SELECT * FROM {ledger.TABLE} WHERE call_key = %s", (key,))


def test_a_release_frees_a_reservation_once_and_never_a_settled_call(db):
    job = new_job(db)
    reserved, settled = _task(db, job["id"], "t-reserved"), _task(db, job["id"], "t-settled", settle=0.3)

    assert ledger.release(db, reserved) is True
    row = _ledger_row(db, reserved)
    assert (row["state"], float(row["amount_usd"]), float(row["reserved_usd"])) == ("released", 0.0, 0.25)
    assert row["settled_at"] is not None
    assert ledger.release(db, reserved) is False  # released already: nothing changes
    assert ledger.release(db, settled) is False  # the money was spent
    row = _ledger_row(db, settled)
    assert (row["state"], float(row["amount_usd"])) == ("settled", 0.3)
    assert ledger.release(db, f"task-test:{uuid.uuid4().hex}") is False


def test_a_task_is_seen_running_once_per_job_and_only_while_reserved(db):
    job, other = new_job(db), new_job(db)
    task = f"t-{uuid.uuid4().hex}"
    key = _task(db, job["id"], task)
    assert ledger.task_running(db, job["id"], "t-unknown") is None

    first = ledger.task_running(db, job["id"], task)
    assert first is not None and _ledger_row(db, key)["running_at"] == first
    assert ledger.task_running(db, job["id"], task) == first  # its queue time ended once
    assert usage.task_running(db, job["id"], task) == first  # the seam a poll calls

    # the same id in another job (a vendor reusing ids) is that job's own row
    other_key = _task(db, other["id"], task)
    other_first = ledger.task_running(db, other["id"], task)
    assert other_first is not None and other_first != first
    assert _ledger_row(db, other_key)["running_at"] == other_first and _ledger_row(db, key)["running_at"] == first

    # a settled task is not marked; the newest row of an id answers
    settled = f"t-{uuid.uuid4().hex}"
    settled_key = _task(db, job["id"], settled, settle=0.2)
    assert ledger.task_running(db, job["id"], settled) is None
    assert _ledger_row(db, settled_key)["running_at"] is None
    newer = _task(db, job["id"], settled)  # resubmitted under the same id
    seen = ledger.task_running(db, job["id"], settled)
    assert seen is not None and _ledger_row(db, newer)["running_at"] == seen


def test_a_tasks_model_is_the_ledgers(db):
    job = new_job(db)
    task = f"t-{uuid.uuid4().hex}"
    _task(db, job["id"], task, model="veo3.1_fast")
    assert ledger.model_of_task(db, task) == "veo3.1_fast"
    assert usage.model_of_task(db, task) == "veo3.1_fast"
    assert ledger.model_of_task(db, f"t-{uuid.uuid4().hex}") is None


def test_the_recent_task_seconds_are_the_models_settled_tasks_newest_first(db):
    job, model = new_job(db), f"model-{uuid.uuid4().hex[:8]}"

    def ran(seconds: float, ended_ago: float, *, from_running: bool = True, **kwargs) -> str:
        """A task of `model` settled `ended_ago` seconds ago after running `seconds` (from its
        running_at, else from its reservation)."""
        key = _task(db, job["id"], kwargs.pop("task_id", f"t-{uuid.uuid4().hex}"), kwargs.pop("model", model), **kwargs)
        now = "(now() AT TIME ZONE 'utc')"
        db.execute(
            f"UPDATE {ledger.TABLE} SET settled_at = {now} - make_interval(secs => %s),"
            f" running_at = CASE WHEN %s THEN {now} - make_interval(secs => %s) END,"
            f" recorded_at = {now} - make_interval(secs => %s) WHERE call_key = %s",
            # queued 10 s before it ran: a duration from the reservation would be 10 s longer
            (ended_ago, from_running, ended_ago + seconds, ended_ago + seconds + (10 if from_running else 0), key),
        )
        return key

    assert ledger.recent_task_seconds(db, model) == []
    ran(40, 300, settle=0.2)
    ran(30, 200, settle=0.2, from_running=False)  # never seen running: from its reservation
    ran(20, 100, settle=0.2)
    ran(5, 50, settle=0.2, model="another-model")
    ran(6, 40)  # still reserved: not settled
    ran(7, 30, settle=0.2, task_id=None)  # no task (a call settled at once)
    ledger.release(db, ran(8, 20))  # released (its settled_at now): never counted
    assert ledger.recent_task_seconds(db, model) == pytest.approx([20, 30, 40])
    assert usage.recent_task_seconds(db, model, limit=2) == pytest.approx([20, 30])
    assert ledger.recent_task_seconds(db, model, 1) == pytest.approx([20])
    for _ in range(18):  # 21 of them: the 20 newest by default
        ran(50, 400, settle=0.2)
    assert len(ledger.recent_task_seconds(db, model)) == 20 and ledger.recent_task_seconds(db, model)[-1] == 50
    assert len(usage.recent_task_seconds(db, model)) == 20  # the seam the first poll's placement reads


def test_an_accepted_task_is_the_one_still_reserved_with_its_id(db):
    """What a retried submit adopts (#36): a reserved call the vendor accepted; never one not
    accepted, settled (seen ending) or released."""
    job = new_job(db)
    accepted = _task(db, job["id"], "t-accepted")
    assert ledger.accepted_task(db, accepted) == "t-accepted"
    assert usage.accepted_task(db, accepted) == "t-accepted"
    assert ledger.accepted_task(db, _task(db, job["id"], None)) is None
    assert ledger.accepted_task(db, _task(db, job["id"], "t-ended", settle=0.1)) is None
    released = _task(db, job["id"], "t-released")
    ledger.release(db, released)
    assert ledger.accepted_task(db, released) is None
    assert ledger.accepted_task(db, f"task-test:{uuid.uuid4().hex}") is None


def test_the_budget_check_names_the_scope_that_is_used_up(db):
    """`check` refuses what does not fit, naming whose budget: the user's first, then the
    bot-wide one; a budget already used up refuses even a free call; 0 means no budget."""
    job = new_job(db, user_id=7_300_000_000 + uuid.uuid4().int % 10**6)
    record_paid(db, job["id"], 1.0)
    with db.connect() as conn, conn.cursor() as cur:
        now = ledger.spent(cur, job["user_id"])
        assert now.user_usd == pytest.approx(1.0) and now.bot_usd >= 1.0
        with pytest.raises(BudgetExceeded) as user_over:
            ledger.check(cur, job["user_id"], 0.6, ledger.Budgets(user_usd=1.5, bot_usd=now.bot_usd + 10))
        assert user_over.value.scope == "user" and "the user budget of $1.50" in str(user_over.value)
        with pytest.raises(BudgetExceeded) as bot_over:
            ledger.check(cur, job["user_id"], 0.6, ledger.Budgets(user_usd=5, bot_usd=now.bot_usd + 0.5))
        assert bot_over.value.scope == "bot" and str(bot_over.value).startswith("the bot budget of")
        with pytest.raises(BudgetExceeded):  # used up to the cent: nothing more, not even free
            ledger.check(cur, job["user_id"], 0.0, ledger.Budgets(user_usd=1.0))
        assert ledger.check(cur, job["user_id"], 0.5, ledger.Budgets(user_usd=1.5)) == now  # fits exactly
        assert ledger.check(cur, job["user_id"], 100.0, ledger.Budgets()) == now  # no budgets


def test_calls_of_nobody_count_together_never_against_a_user(db):
    """A call with neither job nor user (user_id NULL) is counted in the bot-wide sum and under
    "nobody" (spent(None)), never under a real user's id."""

    def spent() -> tuple[float, float, float]:
        with db.connect() as conn, conn.cursor() as cur:
            nobody, user_1 = ledger.spent(cur, None), ledger.spent(cur, 1)
        return nobody.user_usd, nobody.bot_usd, user_1.user_usd

    before = spent()
    record_paid(db, None, 0.7)
    after = spent()
    assert after[0] - before[0] == pytest.approx(0.7) and after[1] - before[1] == pytest.approx(0.7)
    assert after[2] == before[2]


def test_a_reservation_keeps_its_estimate_in_the_vendors_units(db):
    """The estimate's units are stored with the reservation (what a settle without units keeps);
    a unit the estimate does not name is 0."""
    job = new_job(db)
    units = {"seconds": 5.5, "credits": 12, "characters": 40, "input_tokens": 100, "output_tokens": 20}
    key = f"units:{uuid.uuid4().hex}"
    priced = ledger.Call(key, job["id"], "generate_clips", "runway", "gen4_turbo", 0.6, units=units)
    bare = ledger.Call(f"units:{uuid.uuid4().hex}", job["id"], "generate_script", "openai", "m", 0.01)
    (row, empty) = ledger.reserve(db, [priced, bare], ledger.Budgets())
    names = list(units)
    assert {n: float(row[n]) for n in names} == {n: float(v) for n, v in units.items()}
    assert {n: float(empty[n]) for n in names} == dict.fromkeys(names, 0.0)


def _runway_calls(job_id: str, model: str, n: int) -> list[ledger.Call]:
    return [ledger.Call(f"cap:{uuid.uuid4().hex}", job_id, "generate_images", "runway", model, 0.05) for _ in range(n)]


def test_the_daily_cap_takes_exactly_its_count_and_says_when_it_frees_up(db):
    job, model = new_job(db), f"capped-{uuid.uuid4().hex[:8]}"
    caps = {model: 3}
    assert ledger.reserve(db, [], ledger.Budgets(), caps) == []
    with pytest.raises(DailyCapReached) as whole:  # more than the whole day's cap at once
        ledger.reserve(db, _runway_calls(job["id"], model, 4), ledger.Budgets(), caps)
    assert str(whole.value) == f"{model}: 0 of 3 generations a day used, 4 more needed; room again in 24 hours"
    (first,) = ledger.reserve(db, _runway_calls(job["id"], model, 1), ledger.Budgets(), caps)
    with pytest.raises(DailyCapReached) as over:  # one used, three more: the first frees the room
        ledger.reserve(db, _runway_calls(job["id"], model, 3), ledger.Budgets(), caps)
    resets = (first["recorded_at"] + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M UTC")
    assert str(over.value) == f"{model}: 1 of 3 generations a day used, 3 more needed; room again {resets}"
    assert len(ledger.reserve(db, _runway_calls(job["id"], model, 2), ledger.Budgets(), caps)) == 2  # exactly 3


def test_a_reservation_draws_on_the_jobs_hold_and_checks_only_what_it_does_not_cover(db):
    def held_job(usd: float) -> dict:
        job = new_job(db, user_id=7_400_000_000 + uuid.uuid4().int % 10**6)
        with db.connect() as conn, conn.cursor() as cur:
            ledger.hold(cur, job["id"], usd)
        return job

    def call(job: dict, usd: float) -> ledger.Call:
        return ledger.Call(f"hold:{uuid.uuid4().hex}", job["id"], "generate_script", "openai", "m", usd)

    # the hold alone uses the whole budget: what it covers needs no check
    job, budgets = held_job(3.0), ledger.Budgets(user_usd=3.0)
    known = call(job, 1.0)
    (row,) = ledger.reserve(db, [known], budgets)
    (again, new) = ledger.reserve(db, [known, call(job, 2.0)], budgets)  # a retried one, and the hold's rest
    assert again["id"] == row["id"] and new["id"] != row["id"]
    with pytest.raises(BudgetExceeded):
        ledger.reserve(db, [call(job, 0.01)], budgets)
    # past the hold, only what it does not cover is checked
    job, budgets = held_job(3.0), ledger.Budgets(user_usd=3.5)
    ledger.reserve(db, [call(job, 3.5)], budgets)  # 0.5 beyond the hold: fits to the cent
    with pytest.raises(BudgetExceeded):
        ledger.reserve(db, [call(job, 0.01)], budgets)
    assert usage.spent(db, job["user_id"]).user_usd == pytest.approx(3.5)


def test_a_model_without_a_cap_does_not_end_the_check_of_the_ones_after_it(db):
    """ledger.check_generations: an uncapped model asked first is skipped, not the end of the check."""
    job, capped = new_job(db), f"capped-{uuid.uuid4().hex[:8]}"
    free = ledger.Call(f"cap:{uuid.uuid4().hex}", job["id"], "generate_images", "runway", "uncapped", 0.05)
    with pytest.raises(DailyCapReached):
        ledger.reserve(db, [free, *_runway_calls(job["id"], capped, 2)], ledger.Budgets(), {capped: 1})


def test_a_revisions_hold_checks_its_jobs_users_budget_whichever_cursor_reads_the_job(db):
    """ledger.hold_more: the budget it checks is the job's user's (a tuple or a dict cursor), an
    exact fit is held, another user's job is not charged this one's spending, and a job that does
    not exist holds nothing."""
    from psycopg2.extensions import cursor as tuple_cursor
    from psycopg2.extras import RealDictCursor

    user = 7_500_000_000 + uuid.uuid4().int % 10**6
    job, budgets = new_job(db, user_id=user), ledger.Budgets(user_usd=3.0)
    with db.connect() as conn, conn.cursor() as cur:
        ledger.hold(cur, job["id"], 2.5)
    for factory in (tuple_cursor, RealDictCursor):
        with pytest.raises(BudgetExceeded) as over, db.connect() as conn, conn.cursor(cursor_factory=factory) as cur:
            ledger.hold_more(cur, job["id"], 1.0, budgets)
        assert (over.value.scope, over.value.spent) == ("user", pytest.approx(2.5))
    for factory in (tuple_cursor, RealDictCursor):
        other = new_job(db, user_id=user + 1)
        with db.connect() as conn, conn.cursor(cursor_factory=factory) as cur:
            ledger.hold_more(cur, other["id"], 1.0, budgets)
        assert ledger.job_counted(db, other["id"]) == pytest.approx(1.0)
    with db.connect() as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        ledger.hold_more(cur, job["id"], 0.5, budgets)  # exactly the budget
        ledger.hold_more(cur, "no-such-job", 1.0, budgets)  # nobody's: held nowhere
    assert ledger.job_counted(db, job["id"]) == pytest.approx(3.0)
    assert db.query_one(f"SELECT 1 FROM {ledger.TABLE} WHERE call_key = 'hold:no-such-job'") is None


def test_what_a_job_counts_is_its_reservations_and_costs_of_the_last_24_hours(db):
    """ledger.job_counted: reserved and settled calls count at their amount, a released one not,
    another job's not, one older than the window not."""
    job, other = new_job(db), new_job(db)
    assert ledger.job_counted(db, job["id"]) == 0.0
    assert ledger.job_counted(db, "no-such-job") == 0.0

    def call(of: dict, usd: float) -> ledger.Call:
        return ledger.Call(f"counted:{uuid.uuid4().hex}", of["id"], "generate_script", "openai", "m", usd)

    reserved, released, settled, old, others = (
        call(job, 0.5),
        call(job, 0.25),
        call(job, 1.0),
        call(job, 2.0),
        call(other, 3.0),
    )
    ledger.reserve(db, [reserved, released, settled, old, others], ledger.Budgets())
    ledger.release(db, released.key)
    ledger.settle(db, settled.key, 0.75)
    db.execute(
        f"UPDATE {ledger.TABLE} SET recorded_at = recorded_at - interval '25 hours' WHERE call_key = %s", (old.key,)
    )
    assert ledger.job_counted(db, job["id"]) == pytest.approx(0.5 + 0.75)
    assert ledger.job_counted(db, other["id"]) == pytest.approx(3.0)
