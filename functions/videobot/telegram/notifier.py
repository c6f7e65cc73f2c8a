"""The Telegram adapter of the notifier port (videobot.notify): each pipeline event becomes
the messages the user sees in the job's chat: a gate's script, album and question, progress
edited in place, the delivered video, and the ways a job ends.

Telegram's 429 with a short retry_after is waited out; a long one, or a 5xx/network failure,
raises VendorUnavailable so the stage's Retry sends again. Parts of an event already delivered
(an album before its question) are claimed separately and not sent twice. A user who blocked
the bot is logged, not retried."""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from telegram import Bot, InputMediaPhoto, InputMediaVideo
from telegram.error import Forbidden

from videobot.config import Settings
from videobot.data import chats, gates, jobs, notifications, segments
from videobot.data import progress as progress_rows
from videobot.data.db import Database
from videobot.data.rows import Job
from videobot.errors import VendorUnavailable
from videobot.notify import (
    Event,
    GateReady,
    JobEnded,
    NarrationShortened,
    Progress,
    SegmentRefused,
    VendorQueued,
    VideoReady,
    VoiceHeard,
)
from videobot.observability import logger
from videobot.pipeline import CLIP, IMAGE, GateId, GateStage, JobStatus, SegmentStatus, media_kind
from videobot.storage import Storage
from videobot.telegram import bot as bots
from videobot.telegram import texts, ui
from videobot.telegram.bot import call
from videobot.telegram.cost import cost_line, cost_with_narration

ALBUM_LIMIT = 10  # sendMediaGroup takes 2-10 items
CLIPS_SHOWN = 3  # the seed shows the first 3 clips
PHOTO_UPLOAD_LIMIT = 10_000_000


class Parts:
    """Parts of a multi-message event, each claimed once per job: a retried stage resends
    only the part that failed (the album is not sent twice when only the question failed)."""

    def __init__(self, db: Database, job_id: str, event: str):
        self.db, self.job_id, self.event = db, job_id, event

    def claim(self, part: str) -> bool:
        return notifications.claim(self.db, self.job_id, f"{self.event}:{part}")

    def confirm(self, part: str) -> None:
        notifications.confirm(self.db, self.job_id, f"{self.event}:{part}")

    def release(self, part: str) -> None:
        notifications.release(self.db, self.job_id, f"{self.event}:{part}")


class TelegramNotifier:
    """Sends each event to the job's chat, in the chat's language."""

    def __init__(self, settings: Settings, storage: Storage, db: Database):
        self.settings, self.storage, self.db = settings, storage, db

    def send(self, job: Job, event: Event) -> None:
        # a gate asked again after a revision sends its album again: its parts are per round
        name = f"{event.stage}_ready" if isinstance(event, GateReady) else type(event).__name__
        parts = Parts(
            self.db, job.id, f"{name}:r{event.round}" if isinstance(event, GateReady) and event.round else name
        )
        lang = texts.language_of(chats.chat_language(self.db, job.chat_id))
        try:
            bots.run(lambda bot: self._send(bot, job, event, lang, parts), self.settings)
        except Forbidden as exc:
            logger.warning("telegram refused the message", extra={"job_id": job.id, "event": name, "error": str(exc)})

    async def _send(self, bot: Bot, job: Job, event: Event, lang: str, parts: Parts) -> None:
        if isinstance(event, GateReady):
            if event.stage == GateStage.SCRIPT:
                await self._script_ready(bot, job, lang, event)
            elif event.stage == GateStage.IMAGES:
                await self._images_ready(bot, job, lang, event, parts)
            else:
                await self._videos_ready(bot, job, lang, event, parts)
        elif isinstance(event, SegmentRefused):
            await self._segment_refused(bot, job, lang, event)
        elif isinstance(event, Progress):
            await self._progress(bot, job, lang, event)
        elif isinstance(event, VideoReady):
            await self._video_ready(bot, job, lang, event)
        elif isinstance(event, JobEnded):
            await self._text(
                bot, job.chat_id, _ended_text(self.settings, self.db, lang, job, event), ui.main_keyboard(lang)
            )
        elif isinstance(event, (NarrationShortened, VoiceHeard, VendorQueued)):
            await self._text(bot, job.chat_id, _notice_text(lang, event))
        else:
            raise TypeError(f"no Telegram message for {event!r}")

    async def _script_ready(self, bot: Bot, job: Job, lang: str, event: GateReady) -> None:
        job = jobs.get_job(self.db, job.id)
        frame = texts.text(lang, "script_ready", script="")
        script = texts.clip(job.script_text or "", texts.TELEGRAM_TEXT_LIMIT - len(frame))
        await self._text(
            bot,
            job.chat_id,
            texts.text(lang, "script_ready", script=script),
            ui.approval_keyboard(lang, job.id, "script", event.round),
        )

    async def _images_ready(self, bot: Bot, job: Job, lang: str, event: GateReady, parts: Parts) -> None:
        """All ten as one album; after "переделай 3", the images made again, each by number."""
        redone = set(event.segments)
        total = self.settings.pipeline.segment_count
        items: list[InputMediaPhoto] = []
        for seg in segments.get_segments(self.db, job.id)[:ALBUM_LIMIT]:
            if not seg.image_path or (redone and seg.segment_index not in redone):
                continue
            data = self.storage.get_bytes(seg.image_path)
            if len(data) > PHOTO_UPLOAD_LIMIT:
                logger.warning("image too large for an album", extra={"job_id": job.id, "bytes": len(data)})
                continue
            if redone:
                caption = texts.segment_caption(lang, "images", [seg.segment_index], total)
            elif not items:
                caption = texts.clip(
                    texts.text(lang, "images_album_caption", topic=texts.clip(job.prompt, 200)),
                    texts.TELEGRAM_CAPTION_LIMIT,
                )
            else:
                caption = None
            items.append(InputMediaPhoto(data, caption=caption, filename=Path(seg.image_path).name))
        above = (
            texts.text(lang, "above_redone", icon="🖼", what=texts.named(lang, "image", redone))
            if redone
            else texts.text(lang, "images_above_all", count=total)
        )
        await self._gate_with_album(
            bot, job, lang, "images", parts, items, texts.text(lang, "images_ready", above=above), event.round
        )

    async def _videos_ready(self, bot: Bot, job: Job, lang: str, event: GateReady, parts: Parts) -> None:
        """The first three clips; after "переделай 4", the clips made again, each by number."""
        redone = set(event.segments)
        total = self.settings.pipeline.segment_count
        shown = [
            (s.segment_index, s.video_path)
            for s in segments.get_segments(self.db, job.id)
            if s.video_path and (not redone or s.segment_index in redone)
        ][: ALBUM_LIMIT if redone else CLIPS_SHOWN]
        indexes = [index for index, _path in shown]
        items: list[InputMediaVideo] = []
        for index, path in shown:
            if redone:
                caption = texts.segment_caption(lang, "videos", [index], total)
            elif not items:  # the album's caption: "🎞 Клипы 1, 2, 3 из 10"
                caption = texts.segment_caption(lang, "videos", indexes, total)
            else:
                caption = None
            items.append(
                InputMediaVideo(
                    self.storage.get_bytes(path),
                    caption=caption,
                    filename=Path(path).name,
                    supports_streaming=True,
                )
            )
        above = (
            texts.text(lang, "above_redone", icon="🎞", what=texts.named(lang, "clip", indexes))
            if redone
            else texts.text(lang, "videos_above_first", count=total, what=texts.named(lang, "clip", indexes))
        )
        await self._gate_with_album(
            bot, job, lang, "videos", parts, items, texts.text(lang, "videos_ready", above=above), event.round
        )

    async def _segment_refused(self, bot: Bot, job: Job, lang: str, event: SegmentRefused) -> None:
        """Which segment was refused, its prompt, and what waits on the answer; a new prompt is
        written as a message. The vendor's failure code is only logged (lifecycle.gate_question):
        Runway asks that it be kept from users."""
        total = self.settings.pipeline.segment_count
        message = texts.text(
            lang,
            "segment_refused",
            what=texts.named(lang, event.kind, [event.segment]),
            total=total,
            prompt=texts.clip(event.prompt, 1000),
        )
        waits = texts.refusal_waits(lang, event.kind, event.ready, total, event.waiting, event.blocked)
        message = f"{message}\n\n{waits}" if waits else message
        gate = GateId.refused(media_kind(event.kind), event.segment)
        await self._text(bot, job.chat_id, message, ui.refusal_keyboard(lang, job.id, str(gate), event.round))

    async def _video_ready(self, bot: Bot, job: Job, lang: str, event: VideoReady) -> None:
        job = jobs.get_job(self.db, job.id)
        limit = self.settings.telegram.upload_limit_bytes
        with tempfile.TemporaryDirectory() as tmp:
            key = job.final_video_path or event.video_path
            if key is None:
                raise ValueError(f"job {job.id} has no final video to send")
            path = self.storage.download(key, Path(tmp) / "video.mp4")
            size = path.stat().st_size
            size_mb = f"{size / 1_000_000:.1f}"
            if size > limit:
                await self._text(
                    bot,
                    job.chat_id,
                    texts.text(
                        lang, "video_too_big", size_mb=size_mb, limit_mb=f"{limit / 1_000_000:g}", job_id=job.id
                    ),
                    ui.main_keyboard(lang),
                )
                return
            created = job.created_at.replace(tzinfo=UTC)
            minutes = max(1, round((datetime.now(UTC) - created).total_seconds() / 60))
            caption = texts.text(
                lang, "video_caption", minutes=minutes, size_mb=size_mb, duration=f"{job.final_video_duration or 0:.0f}"
            )
            caption += "\n" + cost_line(self.db, lang, job.id)  # what this video cost
            duration = int(job.final_video_duration) if job.final_video_duration else None

            async def send():
                with path.open("rb") as video:
                    return await bot.send_video(
                        job.chat_id,
                        video,
                        caption=texts.clip(caption, texts.TELEGRAM_CAPTION_LIMIT),
                        duration=duration,
                        supports_streaming=True,
                        filename="video.mp4",
                        reply_markup=ui.main_keyboard(lang),
                    )

            if await call(send, "sendVideo", self.settings) is None:
                # the upload left and no answer came: not confirmed, so not recorded as sent. The
                # stage's retry sends it again: a rare duplicate video, never a lost one.
                raise VendorUnavailable(f"sendVideo of job {job.id} was not confirmed by Telegram")

    async def _progress(self, bot: Bot, job: Job, lang: str, event: Progress) -> None:
        """The first report of a stage sends its message; later ones edit it, at most every few
        seconds (always for the last step), and never backwards."""
        stage, done, total = event.stage, int(event.done), int(event.total)
        if stage not in PROGRESS_LABELS["en"] or total <= 0:
            raise ValueError(f"unknown progress stage {stage!r} or total {total}")
        if stage == "voiceover" and jobs.get_job(self.db, job.id).status not in VOICEOVER_SHOWN_STATUSES:
            # Recorded early, beside the images and clips: 📊 Статус shows it until the clips are approved
            return
        queued = int(event.queued)
        message = progress_text(lang, stage, done, total, queued)
        if progress_rows.claim_first(self.db, job.id, stage, done, total, queued):
            try:
                sent = await self._text(bot, job.chat_id, message)
            except Exception:
                progress_rows.forget(self.db, job.id, stage)
                raise
            progress_rows.sent(self.db, job.id, stage, sent.message_id)
            return
        message_id = progress_rows.claim_edit(self.db, job.id, stage, done, total, PROGRESS_MIN_EDIT_SECONDS, queued)
        if message_id:
            await call(
                lambda: bot.edit_message_text(message, chat_id=job.chat_id, message_id=message_id),
                "editMessageText",
                self.settings,
            )

    async def _text(self, bot: Bot, chat_id: int, message: str, reply_markup=None):
        return await call(
            lambda: bot.send_message(
                chat_id, texts.clip(message, texts.TELEGRAM_TEXT_LIMIT), reply_markup=reply_markup
            ),
            "sendMessage",
            self.settings,
        )

    async def _album(self, bot: Bot, chat_id: int, items: list) -> None:
        if len(items) == 1:  # an album needs at least 2 items
            item = items[0]
            if isinstance(item, InputMediaPhoto):
                await call(
                    lambda: bot.send_photo(chat_id, item.media, caption=item.caption), "sendPhoto", self.settings
                )
            else:
                await call(
                    lambda: bot.send_video(chat_id, item.media, caption=item.caption), "sendVideo", self.settings
                )
            return
        await call(lambda: bot.send_media_group(chat_id, items[:ALBUM_LIMIT]), "sendMediaGroup", self.settings)

    async def _gate_with_album(
        self, bot: Bot, job: Job, lang: str, stage: str, parts: Parts, items: list, question: str, round_: int
    ) -> None:
        if items and parts.claim("album"):
            try:
                await self._album(bot, job.chat_id, items)
            except Exception:
                parts.release("album")
                raise
            parts.confirm("album")
        await self._text(bot, job.chat_id, question, ui.approval_keyboard(lang, job.id, stage, round_))


def _notice_text(lang: str, event: NarrationShortened | VoiceHeard | VendorQueued) -> str:
    """A notice of one message, no buttons."""
    if isinstance(event, NarrationShortened):
        key = "narration_shortened_one" if len(event.segments) == 1 else "narration_shortened_many"
        said = texts.text(lang, key, numbers=texts.numbers(event.segments), seconds=f"{event.seconds:g}")
        where = "narration_shortened_subtitled" if event.subtitles else "narration_shortened_spoken"
        return f"{said} {texts.text(lang, where)}"
    if isinstance(event, VoiceHeard):
        return texts.text(lang, "voice_heard", text=event.text)
    return texts.text(lang, "vendor_queued", what=texts.text(lang, f"vendor_queued_{event.stage}"))


def _where(lang: str, stage: str | None) -> str:
    """Where a job ended, after "отменена" or "не ответили вовремя": " на этапе изображений",
    ", пока сегмент 4 ждал новый промпт"; nothing for a job cancelled between gates."""
    gate = GateId.find(stage)
    if gate is None:
        return ""
    if gate.is_refusal:
        return texts.text(lang, "where_refused", n=(gate.segment or 0) + 1)
    return texts.text(lang, f"where_{gate.stage}")


def _refused_at_limit(settings: Settings, db: Database, lang: str, job: Job) -> str | None:
    """A job failed because a segment was refused once more after its last attempt: that
    segment, named ("клип 7"); None when no segment was (the language model refused the topic)."""
    limit = settings.pipeline.max_gate_revisions
    for seg in segments.get_segments(db, job.id):
        for kind in (IMAGE, CLIP) if seg.status == SegmentStatus.FAILED else ():
            gate = gates.get_gate(db, job.id, GateId.refused(kind, seg.segment_index))
            if gate and gate.revisions >= limit:
                return texts.text(
                    lang,
                    "failed_refused_segment",
                    what=texts.named(lang, kind.noun, [seg.segment_index]),
                    total=settings.pipeline.segment_count,
                    limit=limit,
                    job_id=job.id,
                )
    return None


def _ended_text(settings: Settings, db: Database, lang: str, job: Job, event: JobEnded) -> str:
    if event.outcome == "cancelled":
        message = texts.text(lang, "cancelled", job_id=job.id, where=_where(lang, event.stage))
        return message + "\n" + cost_with_narration(db, lang, job.id)
    if event.outcome == "timed_out":
        return texts.text(lang, "timed_out", job_id=job.id, where=_where(lang, event.stage))
    if event.error_type in ui.VOICE_ERRORS:
        limit_mb = f"{settings.telegram.max_voice_bytes / 1_000_000:g}"
        return texts.text(lang, ui.VOICE_ERRORS[event.error_type], limit_mb=limit_mb)
    if event.error_type == "DailyCapReached":  # the reason ends with when the cap frees up
        when = re.search(r"room again (.+)$", event.reason or "")
        return texts.text(lang, "failed_daily_cap", job_id=job.id, time=when.group(1) if when else "24 h")
    if event.error_type == "BudgetExceeded":
        return texts.text(lang, "failed_budget", job_id=job.id)
    if event.error_type == "ContentRefused":
        named = _refused_at_limit(settings, db, lang, job)
        if named:
            return named
    return texts.text(lang, ui.failure_key(event.error_type), job_id=job.id)


# ---- progress: one message per stage, edited in place ----------------------------------------

PROGRESS_LABELS = {
    "ru": {"images": "Изображения", "videos": "Клипы", "voiceover": "Озвучка", "assembly": "Сборка ролика"},
    "en": {"images": "Images", "videos": "Clips", "voiceover": "Voice-over", "assembly": "Assembling the video"},
}
PROGRESS_MIN_EDIT_SECONDS = 3  # Telegram allows about one message (or edit) per second per chat
# The voice-over is recorded beside the images and clips; its progress shows once they are approved
VOICEOVER_SHOWN_STATUSES = (JobStatus.VIDEOS_APPROVED, JobStatus.ASSEMBLING, JobStatus.DELIVERING, JobStatus.COMPLETED)


def progress_bar(done: int, total: int, cells: int = 10) -> str:
    filled = round(cells * min(done, total) / total) if total else cells
    return "▓" * filled + "░" * (cells - filled)


def progress_text(lang: str, stage: str, done: int, total: int, queued: int = 0) -> str:
    """ "Изображения: 3/10 ▓▓▓░░░░░░░", and while Runway holds some of them as THROTTLED,
    " · ⏳ в очереди у Runway: 5"."""
    line = f"{PROGRESS_LABELS.get(lang, PROGRESS_LABELS['ru'])[stage]}: {done}/{total} {progress_bar(done, total)}"
    return line + texts.text(lang, "progress_queued", n=queued) if queued > 0 else line
