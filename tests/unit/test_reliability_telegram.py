"""Reliability matrix, Telegram's own answers, spoken in its protocol (Update JSON to the
webhook handler, answers from the fake Bot API, a Step Functions recorder): an update is
acknowledged only once handled, a Telegram 4xx is permanent (never a redelivery loop), a tap
is answered before the slow work, a user who blocked the bot ends their job quietly, and a
body nested far too deep is a 400."""

from __future__ import annotations

import itertools
import json
import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fakes.telegram_fixtures import (  # noqa: F401
    SECRET,
    TelegramUser,
    event,
    fake_telegram,
    lambda_poster,
    telegram,
)
from tests.helpers import new_job, record_paid, use
from tests.reliability_support import sfn  # noqa: F401
from videobot.data import gates, jobs
from videobot.data import updates as store
from videobot.pipeline import GateId
from videobot.telegram import ui
from videobot.telegram.webhook import handle_event, parse_body

TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


def _waiting_job(db, user: TelegramUser, stage: str = "script") -> dict:
    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(
        db, job["id"], status={"script": "awaiting_script_approval", "images": "awaiting_image_approval"}[stage]
    )
    gates.open_gate(db, job["id"], GateId.parse(stage), f"token-{job['id']}")
    return job


def _handled(db, update: dict) -> bool:
    row = db.query_one(f"SELECT handled_at FROM {store.UPDATES} WHERE update_id = %s", (update["update_id"],))
    return row is not None and row["handled_at"] is not None


@pytest.mark.parametrize("answer_seconds", ["10", "0"])  # answered with the outcome; before any work
def test_an_expired_callback_query_is_a_2xx_and_the_decision_takes_effect_once(
    setup, db, user, sfn, telegram, answer_seconds
):
    job = _waiting_job(db, user)
    tap = user.callback_update(ui.callback_data(True, job["id"], "script"))
    telegram.fail_next("answerCallbackQuery", 400, TOO_OLD)

    with use(setup, CALLBACK_ANSWER_SECONDS=answer_seconds):
        assert user.post(tap) == 200  # not a 500: Telegram stops delivering it
    assert [n for n, kw in sfn.calls if kw.get("taskToken") == f"token-{job['id']}"] == ["SendTaskSuccess"]
    assert gates.get_gate(db, job["id"], GateId("script"))["decision"] == "approved"
    assert jobs.get_job(db, job["id"])["status"] == "script_approved"
    (said,) = user.texts()
    assert said.startswith("✅ Сценарий утверждён!")  # the user hears of it in the chat
    assert [c.error_code for c in telegram.calls if c.method == "answerCallbackQuery"] == [400]
    assert _handled(db, tap)
    # Telegram's redelivery (had it not seen the 2xx) changes nothing and loops nowhere
    assert user.post(tap) == 200
    assert len(sfn.named("SendTaskSuccess")) == 1 and len(user.texts()) == 1
    assert len(telegram.calls_to("answerCallbackQuery", failed=True)) == 1


def test_a_tap_is_answered_before_the_decision_reaches_step_functions(setup, db, user, sfn, telegram, monkeypatch):
    """With no time to wait for the outcome (CALLBACK_ANSWER_SECONDS=0), the answer is sent
    first, then the decision is made; its outcome follows in the chat."""
    job = _waiting_job(db, user)
    seen_at_decision: list[list[str]] = []
    real = sfn.send_task_success

    def recording(**kwargs):
        seen_at_decision.append([c.method for c in telegram.calls])
        return real(**kwargs)

    monkeypatch.setattr(sfn, "send_task_success", recording)
    with use(setup, CALLBACK_ANSWER_SECONDS="0"):
        assert user.post(user.callback_update(ui.callback_data(True, job["id"], "script"))) == 200
    assert len(seen_at_decision) == 1 and "answerCallbackQuery" in seen_at_decision[0]
    assert user.callback_answers() == ["⏳ Принято, выполняю…"]
    (said,) = user.texts()
    assert said.startswith("✅ Сценарий утверждён!")
    assert gates.get_gate(db, job["id"], GateId("script"))["decision"] == "approved"


def test_a_late_outcome_that_is_not_routine_is_said_in_the_chat(setup, db, user, sfn, telegram):
    job = _waiting_job(db, user)
    gates.decide_gate(db, job["id"], GateId("script"), "approved")  # decided by an earlier tap
    with use(setup, CALLBACK_ANSWER_SECONDS="0"):
        assert user.post(user.callback_update(ui.callback_data(True, job["id"], "script"))) == 200
    assert user.callback_answers() == ["⏳ Принято, выполняю…"]
    assert user.texts() == ["Этот этап уже утверждён. Повторное нажатие ничего не меняет."]
    assert sfn.calls == []


def test_a_bad_request_escaping_a_handler_is_answered_200_and_not_redelivered(db, user, sfn, telegram):
    update = user.message_update("/help")
    telegram.fail_next("sendMessage", 400, "Bad Request: message text is empty")
    assert user.post(update) == 200
    assert _handled(db, update)  # finished: a redelivery is a duplicate
    assert user.post(update) == 200
    assert len(telegram.calls_to("sendMessage", failed=True)) == 1 and user.texts() == []


def test_a_user_who_blocked_the_bot_ends_their_job_quietly(db, user, sfn, telegram):
    job = _waiting_job(db, user, "images")
    update = user.message_update("/status")
    telegram.fail_next("sendMessage", 403, BLOCKED)
    assert user.post(update) == 200  # a 403 is permanent: no redelivery loop
    assert _handled(db, update)
    # the job ends as a cancel does: its gate rejected, so the state machine's CancelJob clears it
    (failure,) = sfn.named("SendTaskFailure")
    assert failure["taskToken"] == f"token-{job['id']}" and failure["error"] == "Rejected"
    assert gates.get_gate(db, job["id"], GateId("images"))["decision"] == "rejected"
    assert user.texts() == []  # nothing more is sent to a user who blocked the bot


def test_a_user_who_blocked_the_bot_between_gates_has_the_job_cancelled(db, user, sfn, telegram):
    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(
        db,
        job["id"],
        status="generating_images",
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:x:{job['id']}",
    )
    telegram.fail_next("sendMessage", 403, BLOCKED)
    assert user.say("/status") == 200
    assert [kw["executionArn"].endswith(job["id"]) for kw in sfn.named("StopExecution")] == [True]
    assert jobs.get_job(db, job["id"])["status"] == "cancelled"
    assert jobs.active_job_for_chat(db, user.chat_id) is None  # the chat is not blocked by it


# ---- item 5: nesting that really nests -------------------------------------------------------


def _api(body: str) -> dict:
    api = event("apigw_http_v2_webhook")
    api["body"], api["isBase64Encoded"] = body, False
    api["headers"]["x-telegram-bot-api-secret-token"] = SECRET
    return api


_ids = itertools.count(7_300_000_000 + os.getpid() * 1000)


def _nested(depth: int, kind: str) -> str:
    inner = ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "1" + "}" * depth)
    return f'{{"update_id": {next(_ids)}, "message": {inner}}}'


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_a_body_nested_200000_deep_is_a_400(rt, telegram, kind):
    body = _nested(200_000, kind)
    with pytest.raises(RecursionError):  # it really nests: json itself gives up
        json.loads(body)
    assert parse_body(_api(body)) is None
    assert handle_event(rt, _api(body))["statusCode"] == 400
    assert telegram.calls == []


SHALLOW, DEEP = 500, 50_000  # surely parsed, surely not (json gives up at about 2,000 levels here)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(min_value=1, max_value=300_000), kind=st.sampled_from(["list", "dict"]))
@example(depth=SHALLOW, kind="list")  # the deepest body surely parsed
@example(depth=DEEP, kind="dict")  # the shallowest body surely refused
def test_any_nesting_depth_is_answered_without_a_crash(rt, telegram, depth, kind):
    body = _nested(depth, kind)
    status = handle_event(rt, _api(body))["statusCode"]
    # never a crash: parsed, a well-formed update (its message is not a Message, so answered and
    # ignored); too deep for the parser, refused. Where the parser gives up depends on how deep
    # the stack already is (a json.loads here, a frame or two shallower than the handler's, can
    # still parse a body the handler cannot), so only the clear cases are pinned.
    assert status in (200, 400)
    if depth <= SHALLOW:
        assert status == 200
    if depth >= DEEP:
        with pytest.raises(RecursionError):
            json.loads(body)
        assert status == 400


# ---- item 6: a gate never sticks -------------------------------------------------------------


def _answer_lost_once(sfn, monkeypatch):
    """The first SendTaskSuccess lands at Step Functions but its answer is lost (a read
    timeout); a later send on the same token gets TaskTimedOut, as Step Functions answers for
    a token already used."""
    from botocore.exceptions import ClientError, ReadTimeoutError

    used: set[str] = set()
    real = sfn.send_task_success

    def send(**kwargs):
        if kwargs["taskToken"] in used:
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "Task Timed Out"}}, "SendTaskSuccess")
        used.add(kwargs["taskToken"])
        real(**kwargs)
        raise ReadTimeoutError(endpoint_url="https://states.us-east-1.amazonaws.com")

    monkeypatch.setattr(sfn, "send_task_success", send)


def test_a_lost_answer_reopens_the_gate_and_the_redelivery_finds_the_approval_landed(db, user, sfn, monkeypatch):
    job = _waiting_job(db, user)
    _answer_lost_once(sfn, monkeypatch)
    tap = user.callback_update(ui.callback_data(True, job["id"], "script"))

    assert user.post(tap) == 500  # outcome unknown: Telegram delivers it again
    gate = gates.get_gate(db, job["id"], GateId("script"))
    assert gate["decision"] is None and gate["unknown_decision"] == "approved"  # reopened, not stuck
    assert jobs.get_job(db, job["id"])["status"] == "awaiting_script_approval"
    assert user.texts() == []

    assert user.post(tap) == 200  # the redelivery: TaskTimedOut, because it landed
    assert len(sfn.named("SendTaskSuccess")) == 1  # landed once (the recorder saw one)
    gate = gates.get_gate(db, job["id"], GateId("script"))
    assert gate["decision"] == "approved" and gate["resumed_at"] is not None and gate["unknown_decision"] is None
    assert jobs.get_job(db, job["id"])["status"] == "script_approved"
    (said,) = user.texts()
    assert said.startswith("✅ Сценарий утверждён!")  # not "expired"


def test_a_dead_token_with_no_earlier_send_is_expired(db, user, sfn, monkeypatch):
    from botocore.exceptions import ClientError

    job = _waiting_job(db, user)

    def timed_out(**kwargs):
        raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "Task Timed Out"}}, "SendTaskSuccess")

    monkeypatch.setattr(sfn, "send_task_success", timed_out)
    assert user.post(user.callback_update(ui.callback_data(True, job["id"], "script"))) == 200
    assert gates.get_gate(db, job["id"], GateId("script"))["decision"] == "abandoned"
    assert user.callback_answers()[-1].startswith("⌛")


def test_a_decision_left_by_a_killed_webhook_is_sent_again_by_the_next_tap(db, user, sfn):
    job = _waiting_job(db, user)
    # Given a webhook that committed the approval and was killed before SendTaskSuccess
    assert gates.decide_gate(db, job["id"], GateId("script"), "approved") == (f"token-{job['id']}", 0)
    tap = ui.callback_data(True, job["id"], "script")
    # a tap within a minute is the first webhook still at work: nothing is sent twice
    assert user.post(user.callback_update(tap)) == 200
    assert sfn.named("SendTaskSuccess") == []
    assert "уже утверждён" in user.callback_answers()[-1]
    # after it, the decision is known to be unconfirmed: the next tap sends it, once
    db.execute(
        f"UPDATE {gates.GATES} SET decided_at = decided_at - interval '61 seconds' WHERE job_id = %s", (job["id"],)
    )
    assert user.post(user.callback_update(tap)) == 200
    (sent,) = sfn.named("SendTaskSuccess")
    assert sent["taskToken"] == f"token-{job['id']}"
    assert gates.get_gate(db, job["id"], GateId("script"))["resumed_at"] is not None
    assert user.texts()[-1].startswith("✅ Сценарий утверждён!")
    # confirmed: never sent again, however long ago it was decided (resumed_at, not the clock)
    db.execute(
        f"UPDATE {gates.GATES} SET decided_at = decided_at - interval '61 seconds' WHERE job_id = %s", (job["id"],)
    )
    assert user.post(user.callback_update(tap)) == 200
    assert len(sfn.named("SendTaskSuccess")) == 1
    assert "уже утверждён" in user.callback_answers()[-1]


# ---- item 8: StartExecution failing is a clear answer ----------------------------------------


def _jobs_of(db, user) -> list[dict]:
    return db.query(f"SELECT id, status FROM {jobs.JOBS} WHERE chat_id = %s", (user.chat_id,))


def test_a_throttled_start_execution_is_answered_and_leaves_no_job(db, user, sfn, monkeypatch):
    from botocore.exceptions import ClientError

    real = sfn.start_execution

    def throttled(**kwargs):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution")

    monkeypatch.setattr(sfn, "start_execution", throttled)
    update = user.message_update("Реклама кофе")
    assert user.post(update) == 200
    (said,) = user.texts()
    assert said.startswith("⚠️ Не удалось запустить задачу")
    assert _jobs_of(db, user) == []  # nothing pending, nothing blocking the chat
    assert jobs.active_job_for_chat(db, user.chat_id) is None
    assert user.post(update) == 200 and len(user.texts()) == 1  # a redelivery is a duplicate
    monkeypatch.setattr(sfn, "start_execution", real)
    assert user.say("Реклама кофе") == 200  # the next topic starts at once
    assert user.texts()[-1].startswith("✅ Запрос принят!")
    assert [j["status"] for j in _jobs_of(db, user)] == ["pending"] and len(sfn.named("StartExecution")) == 1


def test_a_start_execution_whose_answer_was_lost_keeps_the_job_that_started(db, user, sfn, monkeypatch):
    from botocore.exceptions import ReadTimeoutError

    real = sfn.start_execution

    def landed_then_lost(**kwargs):
        real(**kwargs)
        raise ReadTimeoutError(endpoint_url="https://states.us-east-1.amazonaws.com")

    monkeypatch.setattr(sfn, "start_execution", landed_then_lost)
    assert user.say("Реклама кофе") == 200
    (job,) = _jobs_of(db, user)
    assert jobs.get_job(db, job["id"])["execution_arn"].endswith(":" + job["id"])
    assert user.texts()[-1].startswith("✅ Запрос принят!")


# ---- item 4: no duplicate sends on a slow Telegram -------------------------------------------


def _timing_out(cause: Exception):
    from telegram.error import TimedOut

    sent: list[int] = []

    async def fn():
        sent.append(1)  # the request left: Telegram may have it
        try:
            raise cause
        except Exception as err:
            raise TimedOut() from err

    return fn, sent


@pytest.mark.parametrize("method", ["sendVideo", "sendMediaGroup"])
def test_a_send_that_timed_out_after_leaving_is_not_repeated(rt, method):
    import asyncio

    import httpx

    from videobot.telegram.bot import call

    fn, sent = _timing_out(httpx.ReadTimeout("read"))
    assert asyncio.run(call(fn, method, rt.settings)) is None
    assert sent == [1]  # once: the album or the video is never doubled


def test_a_timeout_before_anything_was_sent_and_idempotent_calls_are_retried(rt):
    import asyncio

    import httpx

    from videobot.errors import VendorUnavailable
    from videobot.telegram.bot import call

    settings = rt.settings
    ATTEMPTS = settings.telegram.attempts

    fn, sent = _timing_out(httpx.ConnectTimeout("connect"))  # nothing reached Telegram
    with pytest.raises(VendorUnavailable):
        asyncio.run(call(fn, "sendVideo", settings))
    assert len(sent) == ATTEMPTS
    fn, sent = _timing_out(httpx.ReadTimeout("read"))  # a text message may be resent
    with pytest.raises(VendorUnavailable):
        asyncio.run(call(fn, "sendMessage", settings))
    assert len(sent) == ATTEMPTS


# ---- item 12: not open to the world by default, and a bot-wide budget ------------------------


def test_the_bot_wide_daily_budget_refuses_a_new_topic_with_a_clear_message(setup, db, user, sfn):
    from videobot import usage

    spender = new_job(db, "Реклама чая", user_id=user.user_id + 1, chat_id=user.chat_id + 1)  # another user
    usd = usage.llm_usd("gpt-5.4-mini", 1_000_000, 1_000_000)
    record_paid(db, spender["id"], usd, stage="generate_script", vendor="openai", model="gpt-5.4-mini")
    with use(setup, MAX_USD_PER_DAY="1"):
        assert user.say("Реклама кофе") == 200
    (said,) = user.texts()
    assert said.startswith("⛔ За последние сутки ролики всех пользователей бота") and "$1.00" in said
    assert _jobs_of(db, user) == [] and sfn.named("StartExecution") == []
    assert user.say("Реклама кофе") == 200  # 0 (the suite's setting) is no limit
    assert user.texts()[-1].startswith("✅ Запрос принят!")


def test_the_allowlist_must_be_given_at_deploy_and_star_opens_it():
    from local import template as tpl
    from videobot.config import Settings

    param = tpl.load_template()["Parameters"]["AllowedUserIds"]
    assert "Default" not in param  # sam deploy --guided asks for it
    assert param["MinLength"] == 1 and "*" in param["Description"]
    assert Settings(ALLOWED_USER_IDS="*").telegram.allowed_user_id_set == frozenset()  # everyone, said so
    assert Settings(ALLOWED_USER_IDS="42, 7").telegram.allowed_user_id_set == frozenset({42, 7})
    with pytest.raises(Exception, match="Telegram user ids"):
        Settings(ALLOWED_USER_IDS="everyone")
