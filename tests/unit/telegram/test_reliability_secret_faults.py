"""Reliability matrix #25: no secret reaches a log line, a user's message or a recorded failure
reason, when the faults that carry one happen. The secrets are the runtime's own (the bot token,
the webhook secret, the OpenAI and Runway keys the fakes accept, and a database password in
DATABASE_URL); each fault goes through the stage's Lambda handler, and its failure is reported
the way Lambda reports it (errorType, errorMessage, stackTrace) to RecordFailure, which stores
the reason and tells the user, as the state machine's Catch does."""

from __future__ import annotations

import json
import logging
import traceback
from urllib.parse import urlsplit, urlunsplit

import generate_script.app as generate_script_app
import pytest
import record_failure.app as record_failure_app
import submit_image.app as submit_image_app
from psycopg2.extensions import parse_dsn

from tests.fakes import openai_api, runway_api
from tests.fakes.telegram_fixtures import SECRET
from tests.helpers import new_job
from videobot import observability
from videobot.data import jobs

DB_PASSWORD = "Db-Pa55%word_of-the-bot"  # a '%' not followed by hex: libpq echoes it in its error


@pytest.fixture
def every_line(capfd):
    """Every record of every logger at DEBUG (httpx's request lines, the SDKs', ours), and
    whatever the process wrote to stdout and stderr (the Powertools logger's JSON)."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(logging.Formatter("%(name)s %(message)s").format(record))  # with its traceback
            lines.append(json.dumps(record.__dict__, default=str))

    root, keep = logging.getLogger(), Keep(logging.DEBUG)
    loggers = [root, logging.getLogger("video-bot"), logging.getLogger("httpx"), logging.getLogger("openai")]
    levels = [lg.level for lg in loggers]
    root.addHandler(keep)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        yield lambda: [*lines, *"\n".join(capfd.readouterr()).splitlines()]
    finally:
        root.removeHandler(keep)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _reported(handler, rt, event: dict) -> dict:
    """Run a stage's handler; the Catch Step Functions gives RecordFailure for its exception,
    its Cause as Lambda reports an unhandled error."""
    with pytest.raises(Exception) as raised:  # whichever error the fault makes
        handler.lambda_handler.run(rt, event)
    exc = raised.value
    cause = {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }
    return {"Error": type(exc).__name__, "Cause": json.dumps(cause)}


def _with_password(url: str, password: str) -> str:
    """The test database's URL with a user and `password` (unencoded, as typed into .env)."""
    parts = urlsplit(url)
    user = parse_dsn(url).get("user") or "postgres"
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.hostname}:{parts.port}"))


def test_faults_that_carry_a_secret_leave_it_in_no_log_message_or_failure_reason(
    rt, db, openai_env, runway_env, telegram, prompted_job, every_line
):
    secrets = {
        "TELEGRAM_BOT_TOKEN": rt.settings.telegram.bot_token,
        "TELEGRAM_WEBHOOK_SECRET": rt.settings.telegram.webhook_secret,
        "OPENAI_API_KEY": rt.settings.openai.api_key,
        "RUNWAYML_API_SECRET": rt.settings.runway.api_secret,
        "the database password": DB_PASSWORD,
    }
    assert secrets["OPENAI_API_KEY"] == openai_api.API_KEY and secrets["RUNWAYML_API_SECRET"] == runway_api.API_KEY
    assert secrets["TELEGRAM_WEBHOOK_SECRET"] == SECRET and rt.settings.providers.llm == "openai"
    token = secrets["TELEGRAM_BOT_TOKEN"]
    reasons = []

    # OpenAI answers 401 echoing the key it was sent (its "Incorrect API key provided: …")
    job = new_job(db, chat_id=5_000_000_025, user_id=5_000_000_025)
    openai_env.fail(
        "POST /v1/responses",
        401,
        body={
            "error": {
                "message": f"Incorrect API key provided: {openai_api.API_KEY}. You can find your API key at …",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        },
    )
    reasons.append((job["id"], _reported(generate_script_app, rt, {"job_id": job["id"]})))

    # Runway refuses a create, echoing the Authorization header (its failure's notice meets a
    # Telegram gateway error quoting the Bot API URL, token and all: below)
    job = prompted_job
    runway_env.fail("POST /v1/text_to_image", 400, body={"error": f"Invalid header: Bearer {runway_api.API_KEY}"})
    event = {"job_id": job["id"], "segment_index": 0, "settings": rt.settings.execution().model_dump()}
    reasons.append((job["id"], _reported(submit_image_app, rt, event)))

    # DATABASE_URL with a password libpq cannot parse: psycopg2's error quotes it
    broken = rt.with_env(DATABASE_URL=_with_password(rt.settings.database.url, DB_PASSWORD))
    job = new_job(db, chat_id=5_000_000_027, user_id=5_000_000_027)
    reasons.append((job["id"], _reported(generate_script_app, broken, {"job_id": job["id"]})))

    for index, (job_id, error) in enumerate(reasons):
        recorder = rt
        if index == 1:  # Telegram's gateway fails both tries, echoing the URL it was asked for
            recorder = rt.with_env(TELEGRAM_ATTEMPTS="2")
            for _ in range(2):
                telegram.fail_next("sendMessage", 502, description=f"Bad Gateway: upstream /bot{token}/sendMessage")
        assert record_failure_app.lambda_handler.run(recorder, {"job_id": job_id, "error": error})["failed"]

    stored = [jobs.get_job(db, job_id) for job_id, _ in reasons]
    told = [c.text() for c in telegram.calls_to("sendMessage")]
    lines = every_line()
    everything = {
        "log lines": lines,
        "messages to users": told,
        "recorded reasons": [j["error_message"] for j in stored] + [json.dumps(j["end_notice"]) for j in stored],
        "Causes": [e["Cause"] for _, e in reasons],
    }
    for where, texts in everything.items():
        for name, value in secrets.items():
            leaked = [t[:300] for t in texts if value in t]
            assert not leaked, f"{name} leaked into {where}: {leaked[:2]}"
    # the faults happened as they were meant to, and each reason says what failed
    assert [e["Error"] for _, e in reasons] == ["VendorFailed", "VendorFailed", "ConfigurationError"]
    assert "HTTP 401 Incorrect API key provided: <redacted>" in stored[0]["error_message"]
    assert "<redacted>" in stored[1]["error_message"] and "DATABASE_URL" in stored[2]["error_message"]
    assert len(telegram.calls_to("sendMessage")) == 2 and telegram.calls_to("sendMessage", failed=True)
    assert any("/bot<redacted>/sendMessage" in line for line in lines)  # httpx's request lines, redacted
    assert any("telegram unavailable" in line and "upstream /bot<redacted>/sendMessage" in line for line in lines)


@pytest.mark.parametrize(
    ("url", "password"),
    [
        (f"postgresql://bot:{DB_PASSWORD}@db.example:5432/videobot", DB_PASSWORD),
        ("postgresql://bot:Db-Pa55%40word-1@db.example/videobot?sslmode=require", "Db-Pa55@word-1"),
        ("host=db.example user=bot password='Db-Pa55 word-2' dbname=videobot", "Db-Pa55 word-2"),
        ("postgresql://db.example/videobot?password=Db-Pa55word-3&sslmode=require", "Db-Pa55word-3"),
    ],
)
def test_the_database_password_is_redacted_wherever_the_url_puts_it(rt, every_line, url, password):
    """The password in DATABASE_URL (URI or key=value, encoded or not) is one of the runtime's
    secrets: a line that quotes it, or its decoded form, says <redacted>."""
    rt.with_env(DATABASE_URL=url)
    observability.logger.error("could not open %s (password %s)", url, password)
    (line,) = [line for line in every_line() if line.startswith("video-bot could not open")]
    assert "<redacted>" in line and "Pa55" not in line
