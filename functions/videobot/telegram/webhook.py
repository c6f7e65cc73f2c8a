"""The webhook behind API Gateway (HTTP API, payload v2): check Telegram's secret header in
constant time, claim the update_id once in PostgreSQL, answer the update, reply 200.
Long work belongs to the state machine; this only starts executions and resumes gates."""

from __future__ import annotations

import base64
import hmac
import json

from telegram.error import BadRequest, Forbidden, NetworkError

from videobot import control
from videobot.data import updates
from videobot.errors import ControlUnavailable, DatabaseUnavailable, StartFailed, VendorUnavailable
from videobot.observability import logger
from videobot.runtime import Runtime
from videobot.telegram import bot, handlers, texts
from videobot.telegram.replies import send

SECRET_HEADER = "x-telegram-bot-api-secret-token"
# Telegram's own 4xx answers: python-telegram-bot's BadRequest and Forbidden subclass
# NetworkError, but a redelivery would get the same answer (a loop), so they are permanent.
PERMANENT_TELEGRAM = (BadRequest, Forbidden)
# Worth a non-2xx, so Telegram redelivers the update later; anything else is answered 200
# (a redelivery would fail the same way).
TRANSIENT = (DatabaseUnavailable, VendorUnavailable, NetworkError)


def _response(status: int, body: dict | None = None) -> dict:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body or {})}


def verify_secret(expected: str | None, headers: dict | None) -> int | None:
    """None when the secret matches `expected` (TELEGRAM_WEBHOOK_SECRET); else the HTTP status to
    refuse with (401 missing, 403 wrong)."""
    if not expected:
        logger.error("TELEGRAM_WEBHOOK_SECRET is not set: refusing every update")
        return 403
    given = {str(k).lower(): v for k, v in (headers or {}).items()}.get(SECRET_HEADER)
    if not given:
        return 401
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return 403
    return None


def parse_body(event: dict) -> dict | None:
    body = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        return None
    if not isinstance(data, dict) or not _is_update_id(data.get("update_id")):
        return None
    return data


def _is_update_id(value) -> bool:
    """A Telegram update_id: an int (JSON true/false are bools, not ids) that fits the BIGINT
    it is claimed in; anything else would fail in PostgreSQL and be redelivered forever."""
    return type(value) is int and 0 <= value < 2**63


def handle_event(rt: Runtime, event: dict) -> dict:
    refused = _refused(rt, event)
    if refused is not None:
        return refused
    data = parse_body(event)
    if data is None:
        return _response(400, {"ok": False})
    update_id = data["update_id"]
    logger.thread_safe_append_keys(update_id=update_id)
    try:
        return _claimed(rt, data, update_id)
    finally:
        logger.thread_safe_remove_keys(["update_id"])


def _refused(rt: Runtime, event: dict) -> dict | None:
    """The answer to a call that is not Telegram's (no or a wrong secret) or not a POST."""
    refused = verify_secret(rt.settings.telegram.webhook_secret, event.get("headers"))
    if refused:
        logger.warning("webhook call refused", extra={"status": refused})
        return _response(refused, {"ok": False})
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "POST")
    if method != "POST":
        return _response(405, {"ok": False})
    return None


def _claimed(rt: Runtime, data: dict, update_id: int) -> dict:
    """An update handled once: claimed first; one handled already, or being handled, is not."""
    try:
        state = updates.claim_state(rt.db, update_id)
    except DatabaseUnavailable:
        logger.warning("PostgreSQL unavailable, Telegram will redeliver the update")
        return _response(503, {"ok": False})
    if state == updates.HANDLED:
        logger.info("duplicate update ignored")
        return _response(200, {"ok": True, "duplicate": True})
    if state == updates.IN_PROGRESS:
        # Another handler holds the claim and has not finished: it may have been killed,
        # so only a non-2xx keeps Telegram delivering (handled once its lease is over).
        logger.info("update still being handled, Telegram will redeliver it")
        return _response(409, {"ok": False, "in_progress": True})
    return _handle(rt, data, update_id)


def _handle(rt: Runtime, data: dict, update_id: int) -> dict:
    """A claimed update: handled, and finished unless a redelivery may succeed (500: released)."""
    try:
        bot.run(lambda b: handlers.handle_update(rt, b, data), rt.settings)
    except StartFailed:
        _say(rt, data, "start_failed")
    except ControlUnavailable:  # Step Functions throttled past the retries: nothing changed
        _say(rt, data, "try_again")
    except PERMANENT_TELEGRAM as exc:
        logger.warning(
            "telegram refused a call for this update", extra={"error_type": type(exc).__name__, "error": str(exc)}
        )
        if isinstance(exc, Forbidden):
            _end_blocked_chat(rt, data)
    except TRANSIENT as exc:
        try:
            updates.release_update(rt.db, update_id)
        except DatabaseUnavailable:  # the claim's lease runs out instead (updates.CLAIM_LEASE_SECONDS)
            pass
        logger.warning("update failed, Telegram will redeliver it", extra={"error_type": type(exc).__name__})
        return _response(500, {"ok": False})
    except Exception as exc:  # noqa: BLE001 - a redelivery would fail the same way
        logger.exception("update failed", extra={"error_type": type(exc).__name__})
    updates.finish_update(rt.db, update_id)
    return _response(200, {"ok": True})


def chat_of(data: dict) -> int | None:
    """The private chat an update came from, read from its JSON (None when there is none)."""
    for key in ("message", "edited_message"):
        chat = (data.get(key) or {}).get("chat") if isinstance(data.get(key), dict) else None
        if isinstance(chat, dict) and chat.get("type") == "private" and type(chat.get("id")) is int:
            return chat["id"]
    query = data.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else None
    chat = message.get("chat") if isinstance(message, dict) else None
    if isinstance(chat, dict) and type(chat.get("id")) is int:
        return chat["id"]
    return None


def _say(rt: Runtime, data: dict, key: str, **values) -> None:
    """Nothing was done (StartExecution failed and the job was removed; Step Functions did not
    take an answer): the user hears why, once (this update is then answered 200; sending it
    again later is theirs to decide)."""
    chat_id = chat_of(data)
    sender = {}
    for kind in ("message", "callback_query"):
        part = data.get(kind)
        if isinstance(part, dict) and isinstance(part.get("from"), dict):
            sender = part["from"]
            break
    lang = texts.language_of(sender.get("language_code"))
    if chat_id is None:
        return
    try:
        bot.run(lambda b: send(rt, b, chat_id, lang, texts.text(lang, key, **values)), rt.settings)
    except Exception as exc:  # noqa: BLE001 - logged; nothing was done either way
        logger.warning("could not say why nothing was done", extra={"error_type": type(exc).__name__})


def _end_blocked_chat(rt: Runtime, data: dict) -> None:
    """The user blocked the bot (Forbidden): end their job quietly; nothing can reach them."""
    chat_id = chat_of(data)
    if chat_id is None:
        return
    try:
        ended = control.end_for_blocked_chat(rt, chat_id)
    except Exception as exc:  # noqa: BLE001 - the update is answered all the same
        logger.warning("could not end the blocked chat's job", extra={"error_type": type(exc).__name__})
        return
    if ended:
        logger.info("the user blocked the bot: job ended", extra={"job_id": ended})
