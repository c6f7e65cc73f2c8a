"""Reliability matrix, load: a burst at the local webhook server (loopback) from many chats
at once, with redeliveries; nothing lost, nothing doubled, every update answered once. The
full burst (500 updates, 100 chats) is `make reliability-burst`; this is a smaller one."""

from __future__ import annotations

from bench.reliability.burst import burst
from local.serve import WebhookServer
from tests.fakes.telegram_fixtures import SECRET, fake_telegram, telegram  # noqa: F401
from tests.reliability_support import sfn  # noqa: F401


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
