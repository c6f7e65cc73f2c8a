"""Reliability matrix, no secret in any log (issue 21, item 11): tracebacks and exception
messages too, not only log fields. python-telegram-bot's InvalidToken names the bot token, and
a vendor's error may echo the key it was given."""

from __future__ import annotations

import logging
import traceback

import pytest

from tests.helpers import use
from videobot import observability
from videobot.entry import stage_handler
from videobot.errors import VendorFailed
from videobot.telegram import bot as bots

WRONG_TOKEN = "987654321:AAWrong-Token_for-the-401"
RUNWAY_KEY = "key_0123456789abcdef0123456789abcdef"


@pytest.fixture
def every_log(capfd):
    """Everything any logger writes (the Powertools logger on stdout, any library's records
    through a handler on the root), plus what the process printed."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(logging.Formatter("%(message)s").format(record))

    root, keep = logging.getLogger(), Keep(logging.DEBUG)
    root.addHandler(keep)
    try:
        yield lambda: "\n".join(lines) + "\n".join(capfd.readouterr())
    finally:
        root.removeHandler(keep)


def test_a_401_from_getme_on_a_fresh_bot_logs_no_token(setup, rt, telegram, every_log):
    """M8: a freshly built Bot with a token Telegram refuses: getMe answers 401 and
    python-telegram-bot raises InvalidToken("The token `…` was rejected by the server."). Its
    message, its traceback (logged with logger.exception) and the exception that leaves a
    handler carry `<redacted>`, never the token."""
    from telegram.error import InvalidToken

    with use(setup, TELEGRAM_BOT_TOKEN=WRONG_TOKEN) as tuned:

        @stage_handler("deliver_video")
        def stage(rt, event, context=None):
            return bots.run(lambda b: b.get_me(), rt.settings)

        with pytest.raises(InvalidToken) as raised:
            stage.run(tuned, {"job_id": "j1"})
        try:
            bots.run(lambda b: b.get_me(), tuned.settings)
        except InvalidToken:
            observability.logger.exception("telegram refused the token")
    told = "".join(traceback.format_exception(raised.value)) + every_log()
    assert "rejected by the server" in told and "<redacted>" in told
    assert WRONG_TOKEN not in told and "AAWrong-Token" not in told
    assert str(raised.value) == "The token `<redacted>` was rejected by the server."


def test_a_vendor_error_echoing_a_key_is_logged_and_reported_without_it(setup, rt, every_log):
    """M9: a vendor answers an error that echoes the key it was sent, chained under the
    stage's own error: the stage's failure line, its traceback and the exception Lambda reports
    (Step Functions' Cause, the job's error) carry no key; the ASL error name stays."""
    with use(setup, RUNWAYML_API_SECRET=RUNWAY_KEY, IMAGE_PROVIDER="runway") as tuned:

        @stage_handler("submit_image")
        def stage(rt, event, context=None):
            try:
                raise RuntimeError(f'401 {{"error": "Invalid API key: Bearer {RUNWAY_KEY}"}}')
            except RuntimeError as exc:
                raise VendorFailed(f"Runway refused the key {RUNWAY_KEY}") from exc

        with pytest.raises(VendorFailed) as raised:
            stage.run(tuned, {"job_id": "j2"})
        observability.logger.error("reported", exc_info=raised.value)
    told = "".join(traceback.format_exception(raised.value)) + every_log()
    assert type(raised.value).__name__ == "VendorFailed"
    assert "Runway refused the key <redacted>" in told and "Invalid API key: Bearer <redacted>" in told
    assert RUNWAY_KEY not in told
