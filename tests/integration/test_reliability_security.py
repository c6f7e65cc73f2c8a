"""Reliability matrix, security: a whole job, spoken in Telegram's protocol through the real
OpenAI, Runway and Telegram clients (against the local fakes), with every logger at DEBUG;
then every captured log line and everything written to stdout/stderr is scanned for the
secrets that were set. Nothing may contain one."""

from __future__ import annotations

import logging

import pytest

from local.serve import WebhookServer
from tests.fakes import openai_api, runway_api
from tests.fakes.fixtures import openai_vars, runway_vars
from tests.fakes.telegram_fixtures import (
    SECRET,
    TelegramUser,
    fake_telegram,  # noqa: F401
    http_poster,
    inline_buttons,
    sent_message,
    telegram_environment,
)
from videobot.data import jobs

GATE_TIMEOUT = 120
FAST_POLLS = {"IMAGE_FIRST_POLL_SECONDS": "0", "CLIP_FIRST_POLL_SECONDS": "0"}  # the fakes answer at once


class Everything(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(f"{record.name} {record.getMessage()} {record.__dict__}")
        except Exception as exc:  # noqa: BLE001 - a record that cannot format is still scanned
            self.lines.append(f"{record.name} {record.msg!r} {record.args!r} {exc}")


@pytest.fixture
def all_logs():
    """Every stdlib logger at DEBUG into one handler, the Powertools logger included."""
    from videobot.observability import logger as powertools

    handler = Everything()
    root, ours = logging.getLogger(), logging.getLogger(powertools.name)
    saved = (root.level, ours.level)
    root.addHandler(handler)
    ours.addHandler(handler)
    root.setLevel(logging.DEBUG)
    ours.setLevel(logging.DEBUG)
    # botocore's DEBUG is about moto's own calls (dummy AWS keys); it only slows the run
    quiet = [logging.getLogger(n) for n in ("botocore", "boto3", "urllib3", "moto", "werkzeug")]
    quiet_saved = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    ours.removeHandler(handler)
    root.setLevel(saved[0])
    ours.setLevel(saved[1])
    for q, level in zip(quiet, quiet_saved, strict=True):
        q.setLevel(level)


def test_no_secret_reaches_any_log_line(db, pipeline, fake_telegram, fake_openai, fake_runway, all_logs, capfd):
    secrets = {
        "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "OPENAI_API_KEY": openai_api.API_KEY,
        "RUNWAYML_API_SECRET": runway_api.API_KEY,
    }
    fake_telegram.reset()
    env = {
        **telegram_environment(fake_telegram, ALLOWED_USER_IDS="*"),
        **openai_vars(fake_openai),
        **runway_vars(fake_runway),
        **FAST_POLLS,
    }
    with pipeline.using(pipeline.runtime_with(**env)):
        server = WebhookServer(lambda: pipeline.runtime, port=0).start()
        try:
            user = TelegramUser(fake_telegram, http_poster(server.url))
            # a refused call, a rate-limited answer and a vendor error are logged too
            assert user.post(user.message_update("/help"), secret="wrong-" + SECRET) == 403
            fake_telegram.fail_next("sendMessage", 429, retry_after=1)
            fake_openai.fail("POST /v1/responses", 500, headers={"retry-after-ms": "10"})
            assert user.say("Реклама кофе") == 200
            job_id = user.wait_for_text("✅ Запрос принят! ID: ").params["text"].split("ID: ", 1)[1].split()[0]
            for fragment in ("📝 Сценарий готов!", "🖼 Изображения готовы", "🎞 Клипы готовы"):
                question = user.wait_for_text(fragment, timeout=GATE_TIMEOUT)
                assert user.press(inline_buttons(question)[0], sent_message(question)) == 200
            user.wait_for_method("sendVideo", timeout=GATE_TIMEOUT)
        finally:
            server.stop()
    assert jobs.get_job(db, job_id)["status"] in ("delivering", "completed")

    out, err = capfd.readouterr()
    lines = all_logs.lines + out.splitlines() + err.splitlines()
    assert len(lines) > 100  # the scan saw the job's logs: stages, HTTP clients, the webhook
    # the token-bearing URLs were logged, redacted
    assert any("/bot<redacted>/sendMessage" in line for line in lines)
    for name, value in secrets.items():
        leaked = [line[:300] for line in lines if value in line]
        assert not leaked, f"{name} leaked into {len(leaked)} log lines, e.g. {leaked[:2]}"
