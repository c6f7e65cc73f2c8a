"""What the user reads, through the fake Bot API (issue 22, items 6-8): the right forms of
words, only what is true and useful, the keyboard in the chat's language, and Status in the
seed's format with "Обработка — …" saying what the job does or waits for."""

from __future__ import annotations

import json
import re

import pytest

from tests.fakes.telegram_fixtures import TelegramUser, inline_buttons, lambda_poster
from tests.helpers import job_at_gate, new_job, use
from tests.helpers import with_media as _with_media
from tests.reliability_support import sfn  # noqa: F401
from videobot import lifecycle
from videobot.data import gates, jobs
from videobot.data import segments as segment_rows
from videobot.notify import GateReady, JobEnded, VendorQueued, notify_once
from videobot.pipeline import GateId, RefusalKind
from videobot.stages.request_approval import request_approval

CYRILLIC = re.compile("[А-Яа-яЁё]")


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


@pytest.fixture
def english(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt), language_code="en", first_name="Ann")


def _refused_clip(rt, db, user: TelegramUser, index: int = 6, revisions: int = 0) -> dict:
    """A job making its clips, clip `index` refused and paused at its own gate."""
    job = _with_media(rt, db, job_at_gate(db, user, "images"))
    gates.decide_gate(db, job["id"], GateId.parse("images"), "approved")
    jobs.update_job(db, job["id"], status="generating_videos", script_text="…", script_approved=1)
    segment_rows.update_segment(
        db,
        job["id"],
        index,
        video_path=None,
        status="failed",
        error_message="SAFETY.INPUT.TEXT",
        animation_prompt="steam",
    )
    request_approval(rt, job["id"], GateId(RefusalKind.CLIP, index), "token-refused")
    if revisions:
        db.execute(
            f"UPDATE {gates.GATES} SET revisions = %s WHERE job_id = %s AND stage = %s",
            (revisions, job["id"], f"refused_clip_{index}"),
        )
    return job


# ---- item 6: the right forms -------------------------------------------------------------------


def test_a_redo_names_what_it_redoes_in_the_right_form(setup, rt, db, user, sfn):
    job = job_at_gate(db, user, "images")
    assert user.say("переделай 3") == 200
    assert user.texts()[-1] == (
        "🔄 Делаю заново изображение 3, остальные не трогаю (правка 1 из 5). Эта правка стоит ≈ $0.00. "
        "Всего на этот ролик потрачено ≈ $0.00."
    )
    gates.open_gate(db, job["id"], GateId.parse("images"), "token-again")  # asked again after the redo
    assert user.say("переделай 2, 5 светлее") == 200
    assert user.texts()[-1].startswith("🔄 Делаю заново изображения 2, 5, остальные не трогаю (правка 2 из 5).")
    gates.open_gate(db, job["id"], GateId.parse("images"), "token-more")
    assert user.say("переделай 42") == 200  # no such image: how to ask, in Russian
    assert user.texts()[-1] == (
        "Чтобы переделать изображения, напишите их номера от 1 до 10, например: «переделай 3», "
        "«переделай 3 5 светлее» или «переделай 2-4». Или нажмите ✅ Подтвердить / ❌ Отклонить."
    )
    db.execute(f"UPDATE {gates.GATES} SET revisions = 5 WHERE job_id = %s", (job["id"],))
    assert user.say("переделай 4") == 200
    assert user.texts()[-1] == (
        "Правок на этом этапе больше не будет: лимит — 5 правок. Нажмите ✅ Подтвердить или ❌ Отклонить."
    )


def test_help_says_reject_cancels_the_whole_job(setup, rt, db, user, english):
    user.say("/help")
    assert "❌ Отклонить — отменить всю задачу, а не только этап;" in user.texts()[-1]
    assert "(лимит — 1000 символов)" in user.texts()[-1]
    english.say("/help")
    assert "❌ Reject — cancel the whole job, not just the stage;" in english.texts()[-1]


def test_the_daily_limit_agrees_with_its_number(setup, rt, db, user, sfn):
    for _ in range(21):
        jobs.update_job(db, new_job(db, "Ролик", user_id=user.user_id, chat_id=user.chat_id)["id"], status="completed")
    with use(setup, MAX_JOBS_PER_USER_PER_DAY="21"):
        assert user.say("Реклама кофе") == 200
    assert user.texts()[-1].startswith("⛔ Лимит — 21 ролик в сутки, и он исчерпан.\nСледующий ролик можно будет")
    assert sfn.named("StartExecution") == []


def test_cancelled_at_a_refused_segment_says_so_in_plain_words(setup, rt, db, user):
    job = _refused_clip(rt, db, user, index=3)
    rt.notifier.send(jobs.get_job(db, job["id"]), JobEnded("cancelled", stage="refused_clip_3"))
    assert user.texts()[-1].startswith(f"❌ Задача {job['id']} отменена, пока сегмент 4 ждал новый промпт.")


# ---- item 7: only what is true and useful ------------------------------------------------------


def test_a_sticker_hears_that_voice_works_and_voice_without_a_key_names_no_variable(setup, rt, db, user):
    user.post(user.message_update(template="telegram_message_sticker"))
    assert user.texts()[-1] == "Я понимаю текст и голосовые сообщения: напишите описание ролика или надиктуйте его."
    update = user.message_update(template="telegram_message_voice")
    assert user.post(update) == 200
    said = user.texts()[-1]
    assert said.startswith("🎙 Голосовые сообщения сейчас не распознаются") and "OPENAI" not in said


def test_a_refused_segment_is_told_without_the_vendors_code_and_the_limit_failure_names_it(setup, rt, db, user):
    job = _refused_clip(rt, db, user, index=6, revisions=5)
    told = [t for t in user.texts() if t.startswith("🚫")][-1]
    assert told.startswith("🚫 Модерация сервиса генерации не пропустила клип 7 из 10.\nПромпт: «steam»")
    assert "SAFETY" not in told
    # Refused again after its last attempt: the job fails, and the user hears which segment
    cause = {"errorType": "ContentRefused", "errorMessage": "segment 7: the clip was refused by moderation"}
    lifecycle.record_failure(rt, job["id"], {"Error": "ContentRefused", "Cause": json.dumps(cause)})
    assert user.texts()[-1] == (
        "🚫 Модерация сервиса генерации снова не пропустила клип 7 из 10, а попыток для этого сегмента "
        f"больше нет (лимит — 5 попыток). Задача {job['id']} остановлена. Попробуйте сформулировать тему иначе."
    )
    user.say("📊 Статус")
    lines = user.texts()[-1].splitlines()
    assert lines[2] == "📊 Статус: Ошибка"
    assert "⚠️ Причина: модерация сервиса генерации не пропустила материал" in lines
    assert not any("ContentRefused" in line or "SAFETY" in line for line in lines)


def test_the_runway_queue_notice_says_only_what_is_true(setup, rt, db, user, english):
    job = job_at_gate(db, user, "images")
    rt.notifier.send(jobs.get_job(db, job["id"]), VendorQueued("videos"))
    said = user.texts()[-1]
    assert said.startswith("⏳ Клипы: часть задач ждёт в очереди у Runway.")
    assert "Ожидание не оплачивается, но ролик будет готов позже" in said
    assert "1-2" not in said and "впустую" not in said
    english.say("/start")
    other = job_at_gate(db, english, "images")
    rt.notifier.send(jobs.get_job(db, other["id"]), VendorQueued("images"))
    assert english.texts()[-1].startswith("⏳ Images: some tasks are waiting in Runway's queue.")


def test_english_users_get_english_buttons_and_either_languages_labels_work(setup, rt, db, user, english, sfn):
    english.say("/start")
    welcome = english.sent()[-1]
    keyboard = [[b["text"] for b in row] for row in welcome.params["reply_markup"]["keyboard"]]
    assert keyboard == [["📊 Status", "🔄 Start"], ["✅ Approve", "❌ Reject"]]
    assert not CYRILLIC.search(welcome.params["text"])
    # the approval question's buttons too
    job = job_at_gate(db, english, "script")
    jobs.update_job(db, job["id"], script_text="First line.")
    assert notify_once(db, rt.notifier, jobs.get_job(db, job["id"]), GateReady("script"))
    assert [b["text"] for b in inline_buttons(english.sent()[-1])] == ["✅ Approve", "❌ Reject"]
    # a Russian label from an older keyboard still works, answered in English
    assert english.say("📊 Статус") == 200
    assert english.texts()[-1].startswith("📊 Job status\n")
    # and an English label works for a Russian speaker
    assert user.say("📊 Status") == 200
    assert user.texts()[-1] == "У вас пока нет задач. Отправьте описание ролика, чтобы начать."


def test_a_user_whose_language_changed_approves_with_the_old_keyboards_label(setup, rt, db, user, sfn):
    user.say("/start")
    assert user.sent()[-1].params["reply_markup"]["keyboard"][1] == [
        {"text": "✅ Подтвердить"},
        {"text": "❌ Отклонить"},
    ]
    job = job_at_gate(db, user, "script")
    user.language_code = "en"  # the Telegram app now speaks English; the keyboard shown is still Russian
    assert user.say("✅ Подтвердить") == 200
    assert (
        len(sfn.named("SendTaskSuccess")) == 1
        and gates.get_gate(db, job["id"], GateId.parse("script"))["decision"] == "approved"
    )
    answer = user.sent()[-1]
    assert answer.params["text"] == "✅ Script approved! Starting generation..."
    assert answer.params["reply_markup"]["keyboard"][1] == [{"text": "✅ Approve"}, {"text": "❌ Reject"}]


# ---- item 8: Status in the seed's format -------------------------------------------------------


def test_status_shows_the_seeds_lines_first_and_the_wait_for_a_new_prompt(setup, rt, db, user):
    job = _refused_clip(rt, db, user, index=6)
    assert user.say("📊 Статус") == 200
    lines = user.texts()[-1].splitlines()
    assert lines[:9] == [
        "📊 Статус задачи",
        f"🆔 ID: {job['id']}",
        "📊 Статус: Обработка — ждёт ваш новый промпт для сегмента 7",
        "✅ Сценарий: утверждён",
        "📊 Сегменты (10 шт.):",
        "• Промпты для изображений: 10/10",
        "• Изображения: 10/10",
        "• Промпты для анимации: 10/10",
        "• Видео: 9/10",
    ]
    assert lines[9] == "💬 Описание: Реклама кофе"
    # while other clips are still being made, the line says both
    segment_rows.update_segment(db, job["id"], 2, video_path=None, status="animation_prompt_ready")
    assert user.say("📊 Статус") == 200
    assert user.texts()[-1].splitlines()[2] == (
        "📊 Статус: Обработка — анимирую клипы, а сегмент 7 ждёт ваш новый промпт"
    )
    # an approval gate is a wait too; a running stage says what it does
    jobs.update_job(db, job["id"], status="awaiting_video_approval")
    gates.close_open_gates(db, job["id"], "abandoned")
    assert user.say("📊 Статус") == 200
    assert user.texts()[-1].splitlines()[2] == "📊 Статус: Обработка — ждёт вашего решения по клипам"
    jobs.update_job(db, job["id"], status="assembling")
    assert user.say("📊 Статус") == 200
    assert user.texts()[-1].splitlines()[2] == "📊 Статус: Обработка — собираю ролик"
