"""Telling the user what happened. Each message is sent at most once per job and key, so a
retried stage never repeats itself. Without a Telegram token the messages go to the log
(the local runner shows them); with one, TelegramNotifier sends them to the job's chat."""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

from videobot import db
from videobot.observability import logger


class Notifier(Protocol):
    def send(self, job: dict, event: str, **details) -> None: ...


class LogNotifier:
    """Writes each user-facing event to the structured log."""

    def send(self, job: dict, event: str, **details) -> None:
        logger.info("notify", extra={"event": event, "job_id": job["id"], "chat_id": job["chat_id"],
                                     **{k: v for k, v in details.items() if isinstance(v, (str, int, float))}})


class TelegramNotifier:
    """Sends each event to the job's chat (videobot.telegram.outbox). Telegram's 429 with a
    short retry_after is waited out; a long one, or a 5xx/network failure, raises
    VendorUnavailable so the stage's Retry sends again. Parts of an event already delivered
    (an album before its question) are claimed separately and not sent twice. A user who
    blocked the bot is logged, not retried."""

    def send(self, job: dict, event: str, **details) -> None:
        from telegram.error import Forbidden

        from videobot.telegram import bot, outbox

        # a gate asked again after a revision sends its album again: its parts are per round
        parts = _EventParts(job["id"], f"{event}:r{details['round']}" if details.get("round") else event)
        try:
            bot.run(lambda b: outbox.send_event(b, job, event, details, parts))
        except Forbidden as exc:
            logger.warning("telegram refused the message", extra={"job_id": job["id"], "event": event,
                                                                  "error": str(exc)})


class _EventParts:
    def __init__(self, job_id: str, event: str):
        self.job_id, self.event = job_id, event

    def claim(self, part: str) -> bool:
        return claim(self.job_id, f"{self.event}:{part}")

    def release(self, part: str) -> None:
        release(self.job_id, f"{self.event}:{part}")


def claim(job_id: str, key: str) -> bool:
    """True for exactly one caller per (job, key)."""
    return db.execute("INSERT INTO ai_video_bot.notifications (job_id, key) VALUES (%s, %s)"
                      " ON CONFLICT DO NOTHING", (job_id, key)) == 1


def release(job_id: str, key: str) -> None:
    db.execute("DELETE FROM ai_video_bot.notifications WHERE job_id = %s AND key = %s", (job_id, key))


@lru_cache(maxsize=1)
def get_notifier() -> Notifier:
    from videobot.config import get_settings

    return TelegramNotifier() if get_settings().telegram_bot_token else LogNotifier()


def progress(job: dict, stage: str, done: int, total: int) -> None:
    """Report a stage's progress (images, videos, voiceover, assembly: done of total). Best
    effort: a progress bar never fails a stage."""
    try:
        get_notifier().send(job, "progress", stage=stage, done=done, total=total)
    except Exception as exc:  # noqa: BLE001
        logger.warning("progress not sent", extra={"job_id": job["id"], "stage": stage, "error": str(exc)})


def notify_once(job: dict, event: str, key: str | None = None, **details) -> bool:
    """Send an event once per job. If sending fails the claim is released, so the stage's
    retry sends it then."""
    key = key or event
    if not claim(job["id"], key):
        return False
    try:
        get_notifier().send(job, event, **details)
    except Exception:
        release(job["id"], key)
        raise
    return True
