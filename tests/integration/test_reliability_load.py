"""Reliability matrix, load: a burst at the local webhook server (loopback) from many chats
at once, with redeliveries; nothing lost, nothing doubled, every update answered once. The
full burst (500 updates, 100 chats) is `make reliability-burst`; this is a smaller one."""

from __future__ import annotations

import json

from bench.reliability.burst import burst
from local.environment import LocalRuntime
from local.runner import execution_events
from local.serve import WebhookServer
from tests.fakes.telegram_fixtures import SECRET, TelegramUser, fake_telegram, lambda_poster, telegram  # noqa: F401
from tests.reliability_support import sfn  # noqa: F401
from tests.unit.test_database_pool import held
from videobot.data.db import Database


def test_a_burst_from_many_chats_loses_and_doubles_nothing(rt, db, telegram, sfn):
    server = WebhookServer(lambda: rt, port=0).start()
    try:
        result = burst(server.url, SECRET, telegram, sfn, db, updates=150, chats=30, concurrency=12)
    finally:
        server.stop()
    print(result.summary())
    assert result.statuses == {200: result.deliveries} and result.deliveries == 165
    assert result.jobs == 30 and result.executions == 30  # one job per chat, started once
    assert result.replies_missing == 0 and result.replies_extra == 0  # each distinct update answered once
    assert result.p99_ms < 5000


def test_handlers_sharing_one_busy_connection_wait_for_it_and_the_job_goes_on(db, pipeline):
    """Twelve users at once used to exhaust the pool: PoolError was not DatabaseUnavailable, so
    it was never retried, and the user was told the job stopped with an error. Here every
    handler of the job shares a pool of one connection (the ten images and the voice-over at
    once), which another thread holds as the job starts: each handler waits its turn, and the
    job reaches the image gate whole, where its user ends it."""
    one = Database(db.url, max_connections=1)
    rt = LocalRuntime(pipeline.runtime.environ, db=one, parts=pipeline.runtime.given_parts)
    try:
        with pipeline.using(rt):
            job = pipeline.start_job("Реклама кофе")
            with held(one, seconds=1.0):  # the execution's first stages meet a full pool
                pass
            outcome = pipeline.wait(job.id, lambda job, gate: gate.stage == "script", timeout=300)
    finally:
        one.close()
    states = execution_events(outcome)
    assert "RecordFailure" not in states and "PoolError" not in json.dumps(outcome.history, default=str)
    assert states.count("SubmitImage") >= 10 and "AwaitImageApproval" in states
    assert outcome.job.status == "cancelled"  # by its user at the image gate, not by a fault


def test_an_update_meeting_a_full_pool_is_answered_5xx_then_once_on_redelivery(rt, db, telegram, sfn):
    """The webhook's pool stays full past its bound: the update is not lost to a PoolError but
    answered 503, so Telegram delivers it again; the redelivery is answered, once."""
    one = Database(db.url, max_connections=1, checkout_timeout_seconds=0.3)
    busy = LocalRuntime({**rt.environ, "ALLOWED_USER_IDS": "*"}, db=one, parts=rt.given_parts)
    user = TelegramUser(telegram, lambda_poster(busy))
    update = user.message_update("/help")
    try:
        with held(one):
            assert user.post(update) == 503  # today: PoolError, and no answer to redeliver for
        assert user.post(update) == 200
        assert user.post(update) == 200  # a later redelivery is a duplicate
    finally:
        one.close()
    assert len(user.texts()) == 1
