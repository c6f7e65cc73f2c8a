"""Keyboards, callback data and the Status view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from videobot.data.rows import Job
from videobot.pipeline import GateStage, JobStatus
from videobot.telegram import callbacks, texts

# callback_data is 1-64 bytes and never carries the task token:
# "<a|r>:<job_id>:<s|i|v>:<round>", the round being the gate's revision the question asked
# about, so a button of an earlier round never decides the round the user has not seen.
CODE_STAGES = {"s": GateStage.SCRIPT, "i": GateStage.IMAGES, "v": GateStage.VIDEOS}
SEGMENTS_SEPARATOR = "."
STAGE_CODES: dict[str, str] = {stage: code for code, stage in CODE_STAGES.items()}  # by GateStage or its value
CALLBACK_LIMIT = 64


def main_keyboard(lang: str) -> ReplyKeyboardMarkup:
    """The seed's persistent buttons in the chat's language: row 1 Статус, Старт; row 2
    Подтвердить, Отклонить (Status, Start; Approve, Reject)."""
    return ReplyKeyboardMarkup(
        [
            [KeyboardButton(texts.button(lang, "status")), KeyboardButton(texts.button(lang, "start"))],
            [KeyboardButton(texts.button(lang, "approve")), KeyboardButton(texts.button(lang, "reject"))],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


def callback_data(approve: bool, job_id: str, stage: str, round_: int = 0) -> str:
    data = f"{'a' if approve else 'r'}:{job_id}:{STAGE_CODES[stage]}:{int(round_)}"
    if not 1 <= len(data.encode()) <= CALLBACK_LIMIT:
        raise ValueError(f"callback data for job {job_id!r} exceeds {CALLBACK_LIMIT} bytes")
    return data


def parse_callback(data: str | None) -> tuple[bool, str, GateStage, int] | None:
    """(approve, job_id, stage, round), or None for anything this bot did not make. A button
    made before rounds were carried ("a:<job>:<s>") is round 0."""
    parts = (data or "").split(":")
    if len(parts) == 3:
        parts.append("0")
    if (
        len(parts) != 4
        or parts[0] not in ("a", "r")
        or parts[2] not in CODE_STAGES
        or not parts[1]
        or not parts[3].isdigit()
    ):
        return None
    return parts[0] == "a", parts[1], CODE_STAGES[parts[2]], int(parts[3])


def approval_keyboard(lang: str, job_id: str, stage: str, round_: int = 0) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.button(lang, "approve"), callback_data=callback_data(True, job_id, stage, round_)
                ),
                InlineKeyboardButton(
                    texts.button(lang, "reject"), callback_data=callback_data(False, job_id, stage, round_)
                ),
            ]
        ]
    )


def redo_all_keyboard(
    lang: str, job_id: str, stage: str, round_: int, usd: float, segments: list[int] | None = None
) -> InlineKeyboardMarkup:
    """[🔁 Переделать (≈ $0.50)] [Отмена] under a priced redo at the image or clip gate: of
    the `segments` named (0-based), else of all ten."""
    code = STAGE_CODES[stage]
    chosen = (SEGMENTS_SEPARATOR.join(str(i) for i in segments),) if segments else ()
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.text(lang, "btn_redo_all" if not segments else "btn_redo_some", usd=f"{usd:.2f}"),
                    callback_data=callbacks.make(callbacks.REDO_ALL, job_id, code, str(round_), *chosen),
                ),
                InlineKeyboardButton(
                    texts.text(lang, "btn_redo_cancel"),
                    callback_data=callbacks.make(callbacks.REDO_CANCEL, job_id, code, str(round_)),
                ),
            ]
        ]
    )


def parse_segments(data: str, count: int) -> list[int]:
    """A redo button's segments ("2.4": 0-based, each below `count`), [] when they are not that."""
    values = data.split(SEGMENTS_SEPARATOR)
    if not all(v.isdigit() and int(v) < count for v in values):
        return []
    return sorted({int(v) for v in values})


def yes_or_redo_keyboard(lang: str, job_id: str, stage: str, round_: int, usd: float) -> InlineKeyboardMarkup:
    """ "Approval or a wish?": [✅ Подтвердить] (the gate's own approval at this round) and
    [✏️ Переписать (≈ $0.01)] or [🔁 Переделать все (≈ $0.50)] with the words written."""
    key = "btn_rewrite" if stage == GateStage.SCRIPT else "btn_redo_all"
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.button(lang, "approve"), callback_data=callback_data(True, job_id, stage, round_)
                ),
                InlineKeyboardButton(
                    texts.text(lang, key, usd=f"{usd:.2f}"),
                    callback_data=callbacks.make(callbacks.REDO_ALL, job_id, STAGE_CODES[stage], str(round_)),
                ),
            ]
        ]
    )


def refusal_keyboard(lang: str, job_id: str, stage: str, round_: int) -> InlineKeyboardMarkup:
    """[🔁 Повторить] [❌ Отменить задачу] under a refused segment."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.text(lang, "btn_refusal_retry"),
                    callback_data=callbacks.make(callbacks.REFUSAL_RETRY, job_id, stage, str(round_)),
                ),
                InlineKeyboardButton(
                    texts.text(lang, "btn_refusal_cancel"),
                    callback_data=callbacks.make(callbacks.REFUSAL_CANCEL, job_id),
                ),
            ]
        ]
    )


def _number(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "?"


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def script_state(job: Job) -> tuple[str, str]:
    """(icon, catalogue key) of the script's state: approved, rejected, generated or waiting."""
    if job.script_approved == 1:
        return "✅", "script_approved"
    if job.script_approved == -1:
        return "❌", "script_rejected"
    if job.script_text or job.script_generated_at:
        return "📝", "script_generated"
    return "⏳", "script_waiting"


def status_line(lang: str, job: Job, counts: dict, total: int, refused: Sequence[int]) -> str:
    """The Статус line: "Обработка — генерирую изображения" while the job runs, saying what it
    waits for ("Обработка — ждёт ваш новый промпт для сегмента 7": `refused`, the 0-based
    segments paused at a refusal), and the outcome once it ended."""
    making = {"generating_images": "images", "generating_videos": "videos"}.get(job.status)
    if not refused or making is None:
        return texts.status_name(lang, job.status, voice=bool(job.voice_file_id))
    several = "s" if len(refused) > 1 else ""
    waiting = {"numbers": texts.numbers(refused)}
    if (counts.get(making) or 0) + len(refused) < total:  # the others are still being made
        waiting["activity"] = texts.activity(lang, job.status)
        return texts.text(lang, "processing", activity=texts.text(lang, f"busy_waits_prompt{several}", **waiting))
    return texts.text(lang, "processing", activity=texts.text(lang, f"waits_prompt{several}", **waiting))


def status_text(lang: str, job: Job, counts: dict, total: int, refused: Sequence[int] = ()) -> str:
    """The seed's Status view, from the job row, its segment counts and the segments paused at
    a refusal: ID, Статус, Сценарий and the segment counts, in the seed's order; then the
    description, the voice-over, the final video and the times."""

    def t(key: str, **kw) -> str:
        return texts.text(lang, key, **kw)

    def queued(status: str) -> str:  # segments Runway holds as THROTTLED in the stage being made
        n = counts.get("queued") or 0
        return t("progress_queued", n=n) if n and job.status == status else ""

    icon, state = script_state(job)
    lines = [
        t("status_title"),
        t("status_id", job_id=job.id),
        t("status_status", status=status_line(lang, job, counts, total, sorted(refused))),
        t("status_script", icon=icon, state=t(state)),
        t("status_segments", count=total),
        t("status_image_prompts", n=counts.get("image_prompts") or 0, total=total),
        t("status_images", n=counts.get("images") or 0, total=total) + queued(JobStatus.GENERATING_IMAGES),
        t("status_animation_prompts", n=counts.get("animation_prompts") or 0, total=total),
        t("status_videos", n=counts.get("videos") or 0, total=total) + queued(JobStatus.GENERATING_VIDEOS),
        t("status_prompt", prompt=texts.clip(job.prompt, 100)),
        t("status_audio", duration=_number(job.audio_duration))
        if job.audio_duration
        else t("status_audio_recording", n=counts.get("narrations"), total=total)
        if counts.get("narrations")
        else t("status_audio_none"),
        t("status_video", size_mb=_number(job.final_video_size_mb), duration=_number(job.final_video_duration))
        if job.final_video_size_mb
        else t("status_video_none"),
        t("status_created", at=_time(job.created_at)),
    ]
    if job.completed_at:
        lines.append(t("status_completed", at=_time(job.completed_at)))
    if job.status == JobStatus.TIMED_OUT:
        lines.append(t("status_error", reason=t("reason_timed_out")))
    elif job.status == JobStatus.FAILED:  # error_message is "<error type>: <details>", the details for the logs
        kind = (job.error_message or "").partition(":")[0]
        lines.append(t("status_error", reason=t(f"reason_{failure_key(kind)}")))
    return texts.clip("\n".join(lines), texts.TELEGRAM_TEXT_LIMIT)


# How a failed job is told (the notifier's message, the Status card's reason), by its ASL error.
OUTAGE_ERRORS = {
    "VendorUnavailable",
    "PollBudgetExceeded",
    "DatabaseUnavailable",
    "States.Timeout",
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
}
# A voice topic that could not become a topic (TranscribeVoiceTopic) is said in the voice's words.
VOICE_ERRORS = {
    "VoiceNotDownloadable": "voice_too_big",
    "VoiceNotUnderstood": "voice_failed",
    "VoiceEmpty": "voice_empty",
}


def failure_key(error_type: str | None) -> str:
    if error_type in VOICE_ERRORS:
        return VOICE_ERRORS[error_type]
    if error_type == "ContentRefused":
        return "failed_refused"
    if error_type in OUTAGE_ERRORS:
        return "failed_outage"
    return "failed_generic"
