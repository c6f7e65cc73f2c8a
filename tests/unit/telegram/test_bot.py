"""The bot's handlers, texts and Status view, the webhook's checks, and the TelegramNotifier,
against the fake Bot API (no state machine needed: nothing here starts a job)."""

from __future__ import annotations

import json
import time

import pytest

from tests.fakes.telegram_fixtures import (
    SECRET,
    TelegramUser,
    event,
    lambda_poster,
    new_chat_id,
)
from tests.helpers import new_job, use
from videobot import storage
from videobot.data import gates, jobs
from videobot.data import segments as segment_rows
from videobot.data.db import NOW
from videobot.errors import VendorUnavailable
from videobot.notify import GateReady, JobEnded, LogNotifier, VideoReady, notify_once, report_progress
from videobot.pipeline import GateId, GateStage
from videobot.telegram import texts, ui
from videobot.telegram.notifier import TelegramNotifier
from videobot.telegram.webhook import handle_event


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


def _job_for(db, user: TelegramUser, **fields) -> dict:
    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    return jobs.update_job(db, job["id"], **fields) if fields else job


# ---- texts, buttons, Status ---------------------------------------------------------------


def test_callback_data_is_short_round_trips_and_never_carries_a_token():
    data = ui.callback_data(True, "0123456789abcdef", "videos", 3)
    assert data == "a:0123456789abcdef:v:3" and len(data.encode()) <= 64
    assert ui.parse_callback(data) == (True, "0123456789abcdef", "videos", 3)
    assert ui.parse_callback(ui.callback_data(False, "abc-123", "script")) == (False, "abc-123", "script", 0)
    assert ui.parse_callback("a:abc-123:s") == (True, "abc-123", "script", 0)  # made before rounds were carried
    for garbage in (None, "", "x:abc:s", "a:abc:q", "a::s", "a:abc:s:extra", "a:abc:s:1:2"):
        assert ui.parse_callback(garbage) is None
    with pytest.raises(ValueError):
        ui.callback_data(True, "j" * 61, "script")


def test_the_keyboard_is_the_seeds_four_buttons_in_the_chats_language():
    keyboard = ui.main_keyboard("ru").to_dict()
    assert [[b["text"] for b in row] for row in keyboard["keyboard"]] == [
        ["📊 Статус", "🔄 Старт"],
        ["✅ Подтвердить", "❌ Отклонить"],
    ]
    assert keyboard["is_persistent"] and keyboard["resize_keyboard"]
    english = ui.main_keyboard("en").to_dict()
    assert [[b["text"] for b in row] for row in english["keyboard"]] == [
        ["📊 Status", "🔄 Start"],
        ["✅ Approve", "❌ Reject"],
    ]


def test_status_follows_the_seeds_format(db):
    job = new_job(db, "Реклама кофе " + "очень " * 30)
    segment_rows.create_segments(db, job["id"], [f"Часть {i}" for i in range(10)], 5.0)
    for i in range(7):
        segment_rows.update_segment(db, job["id"], i, image_prompt="p", status="image_prompt_ready")
    for i in range(3):
        segment_rows.update_segment(
            db, job["id"], i, image_path=f"jobs/{job['id']}/images/{i:02d}.png", status="image_ready"
        )
    job = jobs.update_job(
        db, job["id"], status="generating_images", script_text="…", script_approved=1, script_generated_at=NOW
    )

    lines = ui.status_text("ru", job, segment_rows.segment_counts(db, job["id"]), 10).splitlines()

    # The seed's lines first, in its order: ID, Статус ("Обработка" and what it does), Сценарий, the counts
    assert lines[:9] == [
        "📊 Статус задачи",
        f"🆔 ID: {job['id']}",
        "📊 Статус: Обработка — генерирую изображения",
        "✅ Сценарий: утверждён",
        "📊 Сегменты (10 шт.):",
        "• Промпты для изображений: 7/10",
        "• Изображения: 3/10",
        "• Промпты для анимации: 0/10",
        "• Видео: 0/10",
    ]
    assert lines[9].startswith("💬 Описание: Реклама кофе очень") and len(lines[9]) <= len("💬 Описание: ") + 100
    assert lines[10:12] == ["🎙 Озвучка: ещё не записана", "🎬 Финальное видео: ещё не собрано"]
    assert lines[12].startswith("🕐 Создана: ") and lines[12].endswith(" UTC")

    # Segment 7 refused while the others are still being made, then alone
    lines = ui.status_text("ru", job, segment_rows.segment_counts(db, job["id"]), 10, [6]).splitlines()
    assert lines[2] == "📊 Статус: Обработка — генерирую изображения, а сегмент 7 ждёт ваш новый промпт"
    lines = ui.status_text("ru", job, {"images": 9}, 10, [6]).splitlines()
    assert lines[2] == "📊 Статус: Обработка — ждёт ваш новый промпт для сегмента 7"
    lines = ui.status_text("en", job, {"images": 8}, 10, [6, 3]).splitlines()
    assert lines[2] == "📊 Status: Processing — waiting for your new prompts for segments 4, 7"
    waiting = jobs.update_job(db, job["id"], status="awaiting_script_approval")
    assert ui.status_text("ru", waiting, {}, 10).splitlines()[2] == (
        "📊 Статус: Обработка — ждёт вашего решения по сценарию"
    )

    done = jobs.update_job(
        db,
        job["id"],
        audio_duration=49.96,
        final_video_size_mb=12.53,
        final_video_duration=50.0,
        completed_at=NOW,
        status="completed",
    )
    lines = ui.status_text("en", done, segment_rows.segment_counts(db, job["id"]), 10).splitlines()
    assert "🎙 Voice-over: 50.0 s" in lines and "🎬 Final video: 12.5 MB, 50.0 s" in lines
    assert lines[2] == "📊 Status: Completed" and lines[-1].startswith("🏁 Completed: ")


# ---- the webhook ------------------------------------------------------------------------


def _api_event(body: str, secret: str | None = SECRET, method: str = "POST") -> dict:
    api = event("apigw_http_v2_webhook")
    api["body"] = body
    api["requestContext"]["http"]["method"] = method
    if secret is None:
        del api["headers"]["x-telegram-bot-api-secret-token"]
    else:
        api["headers"]["x-telegram-bot-api-secret-token"] = secret
    return api


def test_webhook_refuses_wrong_or_missing_secret_and_bad_requests(setup, rt, user):
    body = json.dumps(user.message_update("/start"))
    assert handle_event(rt, _api_event(body, "wrong"))["statusCode"] == 403
    assert handle_event(rt, _api_event(body, SECRET + "x"))["statusCode"] == 403
    assert handle_event(rt, _api_event(body, None))["statusCode"] == 401
    assert handle_event(rt, _api_event(body, method="GET"))["statusCode"] == 405
    assert handle_event(rt, _api_event("{not json"))["statusCode"] == 400
    assert handle_event(rt, _api_event(json.dumps({"message": {}})))["statusCode"] == 400
    with use(setup, TELEGRAM_WEBHOOK_SECRET="") as tuned:
        assert handle_event(tuned, _api_event(body, ""))["statusCode"] == 403
    assert user.fake.calls == []
    # The refused update was never claimed: its genuine delivery is handled
    assert handle_event(rt, _api_event(body))["statusCode"] == 200
    assert user.texts()[0].startswith("👋 Привет, Анна!")


def test_a_redelivered_update_is_answered_once(user):
    update = user.message_update("/help")
    assert user.post(update) == 200 and user.post(update) == 200
    assert len(user.texts()) == 1 and user.texts()[0].startswith("ℹ️")


def test_a_telegram_outage_returns_500_so_telegram_redelivers(user):
    update = user.message_update("📊 Статус")
    for _ in range(3):
        user.fake.fail_next("sendMessage", 502)
    assert user.post(update) == 500
    assert user.post(update) == 200
    assert user.texts() == ["У вас пока нет задач. Отправьте описание ролика, чтобы начать."]


# ---- commands, keyboard, bad input --------------------------------------------------------


def test_commands_and_their_keyboard_buttons_answer_the_same(user):
    for said in ("/start", "🔄 Старт", "/status", "📊 Статус", "/help", "/start@fake_video_bot"):
        assert user.say(said) == 200
    sent = user.texts()
    assert sent[0] == sent[1] == sent[5] and sent[0].startswith("👋 Привет, Анна!")
    assert sent[2] == sent[3] == "У вас пока нет задач. Отправьте описание ролика, чтобы начать."
    assert sent[4].startswith("ℹ️ Как пользоваться ботом")
    # Every answer carries the persistent keyboard
    assert all(c.params["reply_markup"]["keyboard"] for c in user.sent())


def test_status_reads_the_newest_job_from_postgresql(db, user):
    job = _job_for(db, user, status="awaiting_script_approval", script_text="Текст", script_generated_at=NOW)
    assert user.say("📊 Статус") == 200
    lines = user.texts()[-1].splitlines()
    assert lines[1] == f"🆔 ID: {job['id']}" and "📝 Сценарий: готов, ждёт вашего решения" in lines


def test_english_speakers_get_english(setup, rt, telegram):
    user = TelegramUser(telegram, lambda_poster(lambda: setup.rt), language_code="en-US", first_name="Ann")
    user.say("/start")
    user.say("/nope")
    assert user.texts()[0].startswith("👋 Hi, Ann!")
    assert user.texts()[1] == "Unknown command. /help lists the commands."


@pytest.mark.parametrize(
    "template, expected",
    [
        (
            "telegram_message_sticker",
            "Я понимаю текст и голосовые сообщения: напишите описание ролика или надиктуйте его.",
        ),
        # Without OPENAI_API_KEY a voice topic cannot be transcribed (tests/unit/telegram/test_steering_voice.py)
        ("telegram_message_voice", texts.text("ru", "voice_needs_key")),
        (
            "telegram_edited_message",
            "Исправленные сообщения я не читаю: отправьте исправленный текст новым сообщением.",
        ),
        ("telegram_group_message", "Я работаю только в личных сообщениях. Напишите мне напрямую."),
    ],
)
def test_what_is_not_a_topic_gets_a_clear_reply_and_starts_nothing(db, user, template, expected):
    update = user.message_update(template=template)
    assert user.post(update) == 200
    chat_id = (update.get("message") or update.get("edited_message"))["chat"]["id"]
    answers = [c.params["text"] for c in user.fake.calls_to("sendMessage", chat_id=chat_id)]
    assert answers == [expected]
    assert jobs.latest_job_for_chat(db, user.chat_id) is None


def test_empty_or_overlong_topics_start_nothing(db, user):
    user.say("   ")
    user.say("кофе " * 300)
    assert user.texts() == [
        "Описание пустое. Напишите, о чём должен быть ролик, например: Реклама кофе",
        "Описание слишком длинное: 1499 символов при лимите 1000. Сократите его.",
    ]
    assert jobs.latest_job_for_chat(db, user.chat_id) is None


def test_approve_and_reject_with_nothing_waiting(db, user):
    user.say("✅ Подтвердить")
    user.say("❌ Отклонить")
    _job_for(db, user, status="generating_images")
    user.say("✅ Подтвердить")
    assert user.texts() == [
        "Сейчас нечего подтверждать. 📊 Статус покажет, что происходит.",
        "Нет активной задачи, которую можно отменить.",
        "Сейчас нечего подтверждать. 📊 Статус покажет, что происходит.",
    ]


def test_buttons_that_cannot_act_are_answered_and_change_nothing(db, user):
    old = _job_for(db, user, status="awaiting_script_approval")
    gates.open_gate(db, old["id"], GateId("script"), "token-" + "x" * 500)
    newest = _job_for(db, user)
    someone_else = new_job(db, "Чужая задача", chat_id=new_chat_id())

    user.press({"callback_data": "nonsense"})
    user.press({"callback_data": ui.callback_data(True, someone_else["id"], "script")})
    user.press({"callback_data": ui.callback_data(True, old["id"], "script")})
    jobs.finish_job(db, newest["id"], "completed", completed_at=NOW)
    user.press({"callback_data": ui.callback_data(False, newest["id"], "videos")})

    assert user.callback_answers() == [
        "Эта кнопка больше не действует.",
        "Эта кнопка устарела: задача сейчас не ждёт решения на этом этапе.",
        f"Эта кнопка от предыдущей задачи. Действует только последняя: {newest['id']}.",
        "Эта задача уже закончилась (статус: Завершено). Кнопка больше не действует.",
    ]
    assert gates.get_gate(db, old["id"], GateId("script"))["decided_at"] is None
    assert user.texts() == []


def test_the_allowlist_refuses_strangers_politely(setup, user):
    with use(setup, ALLOWED_USER_IDS=f"1, {user.user_id + 1}"):
        user.say("/start")
        user.press({"callback_data": "a:abc:s"})
    with use(setup, ALLOWED_USER_IDS=str(user.user_id)):
        user.say("/help")
    assert user.texts()[0] == "🔒 Извините, этот бот работает только для приглашённых пользователей."
    assert "reply_markup" not in user.sent()[0].params
    assert user.callback_answers() == ["🔒 Извините, этот бот работает только для приглашённых пользователей."]
    assert user.texts()[1].startswith("ℹ️")


# ---- the pipeline's messages: TelegramNotifier ------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 128


def _job_with_media(rt, db, user: TelegramUser) -> dict:
    job = _job_for(db, user, script_text="Первая фраза.\nВторая фраза.", script_segments=["a"] * 10)
    segment_rows.create_segments(db, job["id"], [f"Часть {i}" for i in range(10)], 5.0)
    store = rt.storage
    for i in range(10):
        image = store.put_bytes(storage.segment_key(job["id"], "images", i, "png"), PNG)
        clip = store.put_bytes(storage.segment_key(job["id"], "clips", i, "mp4"), MP4)
        segment_rows.update_segment(db, job["id"], i, image_path=image, video_path=clip, status="video_ready")
    final = store.put_bytes(storage.job_key(job["id"], "final.mp4"), MP4 * 100)
    return jobs.update_job(db, job["id"], final_video_path=final, final_video_size_mb=0.01, final_video_duration=50.0)


def test_the_notifier_is_telegram_when_a_token_is_set(setup, rt, telegram):
    assert isinstance(rt.notifier, TelegramNotifier)
    with use(setup, TELEGRAM_BOT_TOKEN="") as tuned:
        assert isinstance(tuned.notifier, LogNotifier)


def test_gates_send_the_script_the_images_album_and_the_first_three_clips(rt, db, user):
    job = _job_with_media(rt, db, user)
    for stage in list(GateStage):
        assert notify_once(db, rt.notifier, job, GateReady(stage))
    assert not notify_once(db, rt.notifier, job, GateReady("script"))

    questions = user.sent("sendMessage")
    assert [q.params["text"].split("\n")[0] for q in questions] == [
        "📝 Сценарий готов!",
        "🖼 Изображения готовы (10 шт.), они выше. Выберите действие:",
        "🎞 Клипы готовы (10 шт.). Выше — клипы 1, 2, 3. Выберите действие:",
    ]
    assert "Первая фраза.\nВторая фраза." in questions[0].params["text"]
    for question, code in zip(questions, "siv", strict=True):
        buttons = question.params["reply_markup"]["inline_keyboard"][0]
        assert [b["callback_data"] for b in buttons] == [f"a:{job['id']}:{code}:0", f"r:{job['id']}:{code}:0"]
    images, clips = user.sent("sendMediaGroup")
    assert [m["type"] for m in images.params["media"]] == ["photo"] * 10 and len(images.files) == 10
    assert [m["type"] for m in clips.params["media"]] == ["video"] * 3 and len(clips.files) == 3
    assert images.params["media"][0]["caption"].startswith("🖼 Изображения для ролика «Реклама кофе»")
    assert clips.params["media"][0]["caption"] == "🎞 Клипы 1, 2, 3 из 10"


def test_the_finished_video_is_uploaded_with_a_caption_or_explained_when_too_big(setup, rt, db, user):
    job = _job_with_media(rt, db, user)
    rt.notifier.send(job, VideoReady(job["final_video_path"]))
    video = user.sent("sendVideo")[0]
    assert video.files["video"]["size"] == len(MP4) * 100
    assert video.params["caption"].startswith("🎬 Ваш ролик готов!\n⏱ Создан за 1 мин.")
    assert video.params["supports_streaming"] in (True, "true", "True")

    with use(setup, TELEGRAM_UPLOAD_LIMIT_BYTES="1000") as tuned:
        tuned.notifier.send(job, VideoReady(job["final_video_path"]))
    assert len(user.sent("sendVideo")) == 1
    assert user.texts()[-1] == (
        "🎬 Ролик готов, но он весит 0.0 МБ, а Telegram принимает от ботов не больше 0.001 МБ, "
        f"поэтому прислать его сюда не получится. Задача {job['id']}."
    )


@pytest.mark.parametrize(
    "event, expected",
    [
        (
            JobEnded("cancelled", stage="images"),
            "❌ Задача {id} отменена на этапе изображений. Сценарий, изображения, клипы и озвучка удалены; "
            "в /history осталась только тема.",
        ),
        (
            JobEnded("cancelled"),
            "❌ Задача {id} отменена. Сценарий, изображения, клипы и озвучка удалены; в /history осталась только тема.",
        ),
        (
            JobEnded("timed_out", stage="script"),
            "⌛ Вы не ответили вовремя на этапе сценария, поэтому задача {id} остановлена.",
        ),
        (
            JobEnded("timed_out", stage="refused_image_3"),
            "⌛ Вы не ответили вовремя, пока сегмент 4 ждал новый промпт, поэтому задача {id} остановлена.",
        ),
        (
            JobEnded("cancelled", stage="refused_clip_6"),
            "❌ Задача {id} отменена, пока сегмент 7 ждал новый промпт.",
        ),
        (
            JobEnded("failed", error_type="ContentRefused", reason="SAFETY.INPUT.TEXT"),
            "🚫 Сервис генерации отказался работать с этим описанием",
        ),
        (JobEnded("failed", error_type="VendorUnavailable", reason="503"), "⚠️ Сервис генерации сейчас недоступен"),
        (JobEnded("failed", error_type="MediaError", reason="ffmpeg"), "⚠️ Не удалось сделать ролик"),
    ],
)
def test_how_a_job_ends_reaches_the_user_in_plain_words(rt, db, user, event, expected):
    job = _job_for(db, user)
    rt.notifier.send(job, event)
    assert user.texts()[-1].startswith(expected.format(id=job["id"]))
    assert "SAFETY" not in user.texts()[-1]


def test_a_short_429_is_waited_out_and_a_long_one_raises_for_the_stage_retry(rt, db, user):
    job = _job_with_media(rt, db, user)
    user.fake.fail_next("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    assert notify_once(db, rt.notifier, job, GateReady("script"))
    assert time.monotonic() - started >= 1 and len(user.sent()) == 1

    # The album goes through, the question hits a long flood wait: the stage must retry...
    user.fake.fail_next("sendMessage", 429, retry_after=60)
    with pytest.raises(VendorUnavailable):
        notify_once(db, rt.notifier, job, GateReady("images"))
    # ...and the retry sends only the question, not the album again.
    assert notify_once(db, rt.notifier, job, GateReady("images"))
    assert len(user.sent("sendMediaGroup")) == 1
    assert user.texts()[-1].startswith("🖼 Изображения готовы")


def test_a_5xx_is_retried(rt, db, user):
    job = _job_for(db, user)
    user.fake.fail_next("sendMessage", 500)
    user.fake.fail_next("sendMessage", 502)
    rt.notifier.send(job, JobEnded("failed", error_type="VendorFailed"))
    assert len(user.sent()) == 1


def test_long_polling_feeds_updates_through_the_same_handler(setup, rt, user):
    from local.serve import Poller

    update = user.message_update("/help")
    user.fake.push_update(update)
    poller = Poller(lambda: setup.rt, timeout=0)
    assert poller.poll_once() == 1
    assert poller.offset == update["update_id"] + 1
    assert user.texts()[0].startswith("ℹ️")
    user.fake.push_update(update)  # served again (as if our offset were lost): handled once
    poller.offset = 0
    poller.poll_once()
    assert len(user.texts()) == 1


def test_progress_is_one_message_per_stage_edited_in_place_and_never_backwards(rt, db, user):
    from videobot.telegram.notifier import progress_bar

    job = _job_for(db, user)
    assert progress_bar(7, 10) == "▓▓▓▓▓▓▓░░░" and progress_bar(0, 10) == "░" * 10
    report_progress(rt.notifier, job, "images", 1, 10)
    report_progress(rt.notifier, job, "images", 2, 10)  # within the edit interval: skipped
    report_progress(rt.notifier, job, "images", 10, 10)  # the last step is always shown
    report_progress(rt.notifier, job, "images", 9, 10)  # late and lower: ignored
    report_progress(rt.notifier, job, "voiceover", 2, 10)  # made early: not mixed in
    jobs.update_job(db, job["id"], status="videos_approved")
    report_progress(rt.notifier, job, "voiceover", 3, 10)  # once the clips are approved

    first, second = user.sent("sendMessage")
    assert first.params["text"] == "Изображения: 1/10 ▓░░░░░░░░░"
    assert second.params["text"] == "Озвучка: 3/10 ▓▓▓░░░░░░░"
    edits = user.sent("editMessageText")
    assert [(e.params["text"], int(e.params["message_id"])) for e in edits] == [
        ("Изображения: 10/10 ▓▓▓▓▓▓▓▓▓▓", first.result["message_id"])
    ]


def test_progress_says_how_many_wait_in_runways_queue_and_is_edited_when_that_changes(rt, db, user, monkeypatch):
    from videobot.telegram import notifier

    monkeypatch.setattr(notifier, "PROGRESS_MIN_EDIT_SECONDS", 0)
    job, rt = _job_for(db, user), rt
    report_progress(rt.notifier, job, "images", 0, 10, queued=8)  # Runway's tier runs 2, 8 wait
    report_progress(rt.notifier, job, "images", 0, 10, queued=8)  # nothing changed: no edit
    report_progress(rt.notifier, job, "images", 1, 10, queued=7)
    report_progress(rt.notifier, job, "images", 1, 10, queued=0)  # the last one left the queue
    [first] = user.sent("sendMessage")
    assert first.params["text"] == "Изображения: 0/10 ░░░░░░░░░░ · ⏳ в очереди у Runway: 8"
    assert [e.params["text"] for e in user.sent("editMessageText")] == [
        "Изображения: 1/10 ▓░░░░░░░░░ · ⏳ в очереди у Runway: 7",
        "Изображения: 1/10 ▓░░░░░░░░░",
    ]
    assert notifier.progress_text("en", "videos", 3, 10, 2) == "Clips: 3/10 ▓▓▓░░░░░░░ · ⏳ queued at Runway: 2"


def test_progress_never_fails_the_stage(rt, db, user):
    job = _job_for(db, user)
    for _ in range(3):
        user.fake.fail_next("sendMessage", 502)
    report_progress(rt.notifier, job, "assembly", 1, 1)  # logged, not raised
    # the failed first message was forgotten: sent now
    report_progress(rt.notifier, job, "assembly", 1, 1)
    assert user.texts() == ["Сборка ролика: 1/1 ▓▓▓▓▓▓▓▓▓▓"]


def test_set_webhook_registers_the_secret_token(rt, telegram):
    from local.serve import set_webhook

    assert set_webhook("https://example.execute-api.us-east-1.amazonaws.com/webhook", rt.settings) is True
    call = telegram.calls_to("setWebhook")[0]
    assert call.params["secret_token"] == SECRET and call.params["url"].endswith("/webhook")
    assert call.params["allowed_updates"] == ["message", "edited_message", "callback_query"]


def test_telegram_settings_are_validated_once():
    from videobot.config import settings_from_environ
    from videobot.errors import ConfigurationError

    settings = settings_from_environ({"ALLOWED_USER_IDS": "5000000042, 7;9", "TELEGRAM_BOT_TOKEN": "1:x"})
    assert settings.telegram.allowed_user_id_set == {5000000042, 7, 9}
    assert settings.telegram.api_base_url == "https://api.telegram.org"
    assert "1:x" not in repr(settings)
    with pytest.raises(ConfigurationError, match="ALLOWED_USER_IDS"):
        settings_from_environ({"ALLOWED_USER_IDS": "anna"})
