"""What the pipeline tells the user through Telegram, one function per event it emits
(videobot.pipeline's notify_once calls): the three gates, the delivered video, and the
ways a job ends."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from telegram import Bot, InputMediaPhoto, InputMediaVideo

from videobot import jobs, storage
from videobot.config import get_settings
from videobot.observability import logger
from videobot.telegram import steering, store, texts, ui
from videobot.telegram.bot import call

ALBUM_LIMIT = 10          # sendMediaGroup takes 2-10 items
CLIPS_SHOWN = 3           # the seed shows the first 3 clips
PHOTO_UPLOAD_LIMIT = 10_000_000



class Parts(Protocol):
    """Parts of a multi-message event, each claimed once: a retried stage resends only the
    part that failed (the album is not sent twice when only the question failed)."""

    def claim(self, part: str) -> bool: ...
    def release(self, part: str) -> None: ...


class AllParts:
    """Every part, every time (for a caller that does its own deduplication)."""

    def claim(self, part: str) -> bool:
        return True

    def release(self, part: str) -> None:
        pass


def language_for(job: dict) -> str:
    return texts.language_of(store.chat_language(job["chat_id"]))


async def send_event(bot: Bot, job: dict, event: str, details: dict, once: Parts) -> None:
    lang = language_for(job)
    sender = _EVENTS.get(event)
    if sender is None:
        logger.info("no telegram message for this event", extra={"event": event, "job_id": job["id"]})
        return
    await sender(bot, job, lang, details, once)


async def _text(bot: Bot, chat_id: int, message: str, reply_markup=None, what: str = "sendMessage"):
    return await call(lambda: bot.send_message(chat_id, texts.clip(message, texts.TELEGRAM_TEXT_LIMIT),
                                               reply_markup=reply_markup), what)


async def _script_ready(bot: Bot, job: dict, lang: str, details: dict, once: Parts) -> None:
    job = jobs.get_job(job["id"])
    frame = texts.text(lang, "script_ready", script="")
    script = texts.clip(job["script_text"] or "", texts.TELEGRAM_TEXT_LIMIT - len(frame))
    await _text(bot, job["chat_id"], texts.text(lang, "script_ready", script=script),
                ui.approval_keyboard(job["id"], "script"))


async def _album(bot: Bot, chat_id: int, items: list) -> None:
    if len(items) == 1:  # an album needs at least 2 items
        item = items[0]
        if isinstance(item, InputMediaPhoto):
            await call(lambda: bot.send_photo(chat_id, item.media, caption=item.caption), "sendPhoto")
        else:
            await call(lambda: bot.send_video(chat_id, item.media, caption=item.caption), "sendVideo")
        return
    await call(lambda: bot.send_media_group(chat_id, items[:ALBUM_LIMIT]), "sendMediaGroup")


async def _gate_with_album(bot: Bot, job: dict, stage: str, once: Parts, items: list, question: str) -> None:
    if items and once.claim("album"):
        try:
            await _album(bot, job["chat_id"], items)
        except Exception:
            once.release("album")
            raise
    await _text(bot, job["chat_id"], question, ui.approval_keyboard(job["id"], stage))


async def _images_ready(bot: Bot, job: dict, lang: str, details: dict, once: Parts) -> None:
    store_ = storage.get_storage()
    items = []
    for seg in jobs.get_segments(job["id"])[:ALBUM_LIMIT]:
        if not seg["image_path"]:
            continue
        data = store_.get_bytes(seg["image_path"])
        if len(data) > PHOTO_UPLOAD_LIMIT:
            logger.warning("image too large for an album", extra={"job_id": job["id"], "bytes": len(data)})
            continue
        caption = texts.clip(texts.text(lang, "images_album_caption", topic=texts.clip(job["prompt"], 200)),
                             texts.TELEGRAM_CAPTION_LIMIT) if not items else None
        items.append(InputMediaPhoto(data, caption=caption, filename=Path(seg["image_path"]).name))
    await _gate_with_album(bot, job, "images", once, items,
                           texts.text(lang, "images_ready"))


async def _videos_ready(bot: Bot, job: dict, lang: str, details: dict, once: Parts) -> None:
    store_ = storage.get_storage()
    redone = set(details.get("segments") or [])  # after "redo 3 5": show the clips made again
    segments = [s for s in jobs.get_segments(job["id"])
                if s["video_path"] and (not redone or s["segment_index"] in redone)][:ALBUM_LIMIT if redone else CLIPS_SHOWN]
    items = []
    for seg in segments:
        caption = texts.text(lang, "videos_album_caption", shown=len(segments)) if not items else None
        items.append(InputMediaVideo(store_.get_bytes(seg["video_path"]), caption=caption,
                                     filename=Path(seg["video_path"]).name, supports_streaming=True))
    await _gate_with_album(bot, job, "videos", once, items,
                           texts.text(lang, "videos_ready", shown=len(items)))


async def _video_ready(bot: Bot, job: dict, lang: str, details: dict, once: Parts) -> None:
    job = jobs.get_job(job["id"])
    limit = get_settings().telegram_upload_limit_bytes
    key = job["final_video_path"] or details.get("video_path")
    with tempfile.TemporaryDirectory() as tmp:
        path = storage.get_storage().download(key, Path(tmp) / "video.mp4")
        size = path.stat().st_size
        size_mb = f"{size / 1_000_000:.1f}"
        if size > limit:
            await _text(bot, job["chat_id"], texts.text(lang, "video_too_big", size_mb=size_mb,
                                                        limit_mb=f"{limit / 1_000_000:g}", job_id=job["id"]),
                        ui.main_keyboard())
            return
        created = job["created_at"].replace(tzinfo=UTC)
        minutes = max(1, round((datetime.now(UTC) - created).total_seconds() / 60))
        caption = texts.text(lang, "video_caption", minutes=minutes, size_mb=size_mb,
                             duration=f"{job['final_video_duration'] or 0:.0f}")
        caption += "\n" + steering.cost_line(lang, job["id"])  # what this video cost
        duration = int(job["final_video_duration"]) if job["final_video_duration"] else None

        async def send():
            with path.open("rb") as video:
                return await bot.send_video(job["chat_id"], video, caption=texts.clip(caption, texts.TELEGRAM_CAPTION_LIMIT),
                                            duration=duration, supports_streaming=True, filename="video.mp4",
                                            reply_markup=ui.main_keyboard())

        await call(send, "sendVideo")


def _stage_name(lang: str, stage: str | None) -> str:
    return texts.text(lang, f"stage_{stage}") if stage in jobs.GATE_STAGES else (stage or "?")


async def _job_cancelled(bot: Bot, job: dict, lang: str, details: dict, once: Parts) -> None:
    stage = details.get("stage")
    where = texts.text(lang, "cancelled_at", stage=_stage_name(lang, stage)) if stage else ""
    await _text(bot, job["chat_id"], texts.text(lang, "cancelled", job_id=job["id"], where=where), ui.main_keyboard())


async def _approval_timed_out(bot: Bot, job: dict, lang: str, details: dict, once: Parts) -> None:
    await _text(bot, job["chat_id"], texts.text(lang, "timed_out", job_id=job["id"],
                                                stage=_stage_name(lang, details.get("stage"))), ui.main_keyboard())


OUTAGE_ERRORS = {"VendorUnavailable", "PollBudgetExceeded", "DatabaseUnavailable", "States.Timeout",
                 "Lambda.TooManyRequestsException", "Lambda.ServiceException"}


def failure_key(error_type: str | None) -> str:
    if error_type == "ContentRefused":
        return "failed_refused"
    if error_type in OUTAGE_ERRORS:
        return "failed_outage"
    return "failed_generic"


async def _job_failed(bot: Bot, job: dict, lang: str, details: dict, once: Parts) -> None:
    await _text(bot, job["chat_id"], texts.text(lang, failure_key(details.get("error_type")), job_id=job["id"]),
                ui.main_keyboard())


# ---- progress: one message per stage, edited in place ----------------------------------------

PROGRESS_STAGES = ("images", "videos", "voiceover", "assembly")
PROGRESS_LABELS = {
    "ru": {"images": "Изображения", "videos": "Клипы", "voiceover": "Озвучка", "assembly": "Сборка ролика"},
    "en": {"images": "Images", "videos": "Clips", "voiceover": "Voice-over", "assembly": "Assembling the video"},
}
PROGRESS_MIN_EDIT_SECONDS = 3  # Telegram allows about one message (or edit) per second per chat
_PROGRESS = "ai_video_bot.telegram_progress"


def progress_bar(done: int, total: int, cells: int = 10) -> str:
    filled = round(cells * min(done, total) / total) if total else cells
    return "▓" * filled + "░" * (cells - filled)


def progress_text(lang: str, stage: str, done: int, total: int) -> str:
    return f"{PROGRESS_LABELS.get(lang, PROGRESS_LABELS['ru'])[stage]}: {done}/{total} {progress_bar(done, total)}"


async def _progress(bot: Bot, job: dict, lang: str, details: dict, once: Parts) -> None:
    """The first report of a stage sends its message; later ones edit it, at most every few
    seconds (always for the last step), and never backwards."""
    from videobot import db

    stage, done, total = details["stage"], int(details["done"]), int(details["total"])
    if stage not in PROGRESS_STAGES or total <= 0:
        raise ValueError(f"unknown progress stage {stage!r} or total {total}")
    message = progress_text(lang, stage, done, total)
    first = db.query_one(f"INSERT INTO {_PROGRESS} (job_id, stage, done, total) VALUES (%s, %s, %s, %s)"
                         " ON CONFLICT DO NOTHING RETURNING job_id", (job["id"], stage, done, total))
    if first:
        try:
            sent = await _text(bot, job["chat_id"], message)
        except Exception:
            db.execute(f"DELETE FROM {_PROGRESS} WHERE job_id = %s AND stage = %s", (job["id"], stage))
            raise
        db.execute(f"UPDATE {_PROGRESS} SET message_id = %s WHERE job_id = %s AND stage = %s",
                   (sent.message_id, job["id"], stage))
        return
    row = db.query_one(
        f"UPDATE {_PROGRESS} SET done = %s, edited_at = (now() AT TIME ZONE 'utc')"
        " WHERE job_id = %s AND stage = %s AND message_id IS NOT NULL AND done < %s"
        " AND (%s OR edited_at <= (now() AT TIME ZONE 'utc') - make_interval(secs => %s)) RETURNING message_id",
        (done, job["id"], stage, done, done >= total, PROGRESS_MIN_EDIT_SECONDS))
    if row:
        await call(lambda: bot.edit_message_text(message, chat_id=job["chat_id"], message_id=row["message_id"]),
                   "editMessageText")


_EVENTS = {
    "script_ready": _script_ready,
    "images_ready": _images_ready,
    "videos_ready": _videos_ready,
    "video_ready": _video_ready,
    "job_cancelled": _job_cancelled,
    "approval_timed_out": _approval_timed_out,
    "job_failed": _job_failed,
    "progress": _progress,
}
