"""/settings, /history and the cost of a job, spoken through the fake Bot API; and the chosen
voice and subtitles reaching the stages that use them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.fakes.fixtures import openai_vars
from tests.fakes.telegram_fixtures import TelegramUser, inline_buttons, lambda_poster, sent_message
from tests.helpers import new_job, record_paid, use
from videobot import media, preferences, storage, usage
from videobot.data import jobs
from videobot.data import segments as segment_rows
from videobot.data.db import NOW
from videobot.notify import VideoReady
from videobot.stages import animate_clips
from videobot.stages.record_voiceover import record_voiceover as record_voiceover_stage
from videobot.telegram import texts

MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 128


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


def _settings_message(user: TelegramUser):
    assert user.say("/settings") == 200
    return user.sent("sendMessage")[-1]


def _button(call, label: str) -> dict:
    return next(b for b in inline_buttons(call) if b["text"].removeprefix("✓ ") == label)


# ---- /settings --------------------------------------------------------------------------


def test_settings_show_the_defaults_with_short_buttons(user):
    call = _settings_message(user)
    text = call.params["text"]
    assert text.startswith("⚙️ Настройки (для следующего ролика)")
    assert "📐 Формат: 16:9" in text and "🗣 Голос: default" in text and "🌐 Язык озвучки: авто" in text
    assert "💬 Субтитры: вкл" in text
    rows = call.params["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in rows[0]] == ["✓ 16:9", "9:16"]
    assert [b["text"] for b in rows[1]] == ["✓ default", "female", "male"]  # espeak-ng's voices offline
    assert [b["text"] for b in rows[2]] == ["✓ авто", "русский", "английский"]
    assert [b["text"] for b in rows[3]] == ["✓ вкл", "выкл"]
    assert all(1 <= len(b["callback_data"].encode()) <= 64 for row in rows for b in row)


def test_each_choice_is_stored_per_user_and_the_message_is_edited_in_place(db, user):
    call = _settings_message(user)
    message = sent_message(call)
    for label in ("9:16", "female", "английский", "выкл"):
        assert user.press(_button(call, label), message) == 200
    assert user.callback_answers() == [
        "✅ Сохранено: 9:16",
        "✅ Сохранено: female",
        "✅ Сохранено: английский",
        "✅ Сохранено: выкл",
    ]
    assert preferences.get(db, user.user_id) == preferences.Preferences(
        aspect_ratio="9:16", voice="female", narration_language="en", subtitles=False
    )
    edited = user.fake.calls_to("editMessageText")[-1]
    assert "📐 Формат: 9:16" in edited.params["text"] and "💬 Субтитры: выкл" in edited.params["text"]
    assert "✓ 9:16" in [b["text"] for b in inline_buttons(edited)]
    # Someone else's settings are untouched
    assert preferences.get(db, user.user_id + 1) == preferences.Preferences()


def test_a_choice_the_bot_does_not_offer_changes_nothing(db, user):
    assert user.post(user.callback_update("st|v|robot")) == 200
    assert user.post(user.callback_update("st|zz|1")) == 200
    assert user.callback_answers() == ["Этот вариант сейчас недоступен.", "Эта кнопка больше не действует."]
    assert preferences.get(db, user.user_id) == preferences.Preferences()


def test_voices_come_from_the_active_speech_provider(setup, rt, db, user, fake_openai):
    with use(setup, **openai_vars(fake_openai)) as tuned:
        # the Realtime API's voices, marin its default; none of /v1/audio/speech's own (onyx, fable, nova)
        voices = tuned.speech_voices()
        assert voices[0] == "marin" and "cedar" in voices and not {"onyx", "fable", "nova"} & set(voices)
        call = _settings_message(user)
        assert user.press(_button(call, "cedar"), sent_message(call)) == 200
        assert preferences.get(db, user.user_id).voice == "cedar"
    with use(setup, TTS_PROVIDER="polly") as tuned:
        assert tuned.speech_voices() == ("Tatyana", "Maxim", "Joanna", "Matthew")


def test_the_chosen_voice_reaches_the_voice_over(setup, rt, db, fake_openai):
    job = new_job(db, "Реклама кофе")
    segment_rows.create_segments(db, job["id"], [f"Часть номер {i}." for i in range(10)], 5.0)
    jobs.update_job(db, job["id"], language="ru", voice="cedar")
    with use(setup, **openai_vars(fake_openai)) as tuned:
        record_voiceover_stage(tuned, job["id"])
    voices = {s["session"]["audio"]["output"]["voice"] for s in fake_openai.realtime.sessions}
    assert voices == {"cedar"} and len(fake_openai.realtime.sessions) == 10


@pytest.mark.parametrize("choice, burned", [(None, True), (False, False), (True, True)])
def test_the_subtitles_choice_reaches_the_clip_preparation(rt, db, monkeypatch, tmp_path, choice, burned):
    seen = {}
    monkeypatch.setattr(media.FFmpeg, "prepare_segment", lambda self, clip, out, **kw: seen.update(kw) or out)
    job = jobs.update_job(db, new_job(db, "Реклама кофе")["id"], subtitles=choice)
    animate_clips.prepare_segment(rt, job, SimpleNamespace(text="Часть 1."), tmp_path / "in.mp4", tmp_path / "out.mp4")
    assert seen["text"] == ("Часть 1." if burned else None)


# ---- /history and cost ------------------------------------------------------------------


def _finished_job(rt, db, user: TelegramUser, prompt: str) -> dict:
    job = new_job(db, prompt, user_id=user.user_id, chat_id=user.chat_id)
    final = rt.storage.put_bytes(storage.job_key(job["id"], "final.mp4"), MP4 * 50)
    usd = usage.llm_usd("gpt-5.4-mini", 1_000_000, 100_000)
    record_paid(db, job["id"], usd, stage="generate_script", vendor="openai", model="gpt-5.4-mini")
    return jobs.update_job(
        db,
        job["id"],
        status="completed",
        final_video_path=final,
        final_video_size_mb=0.01,
        final_video_duration=50.0,
        completed_at=NOW,
    )


def test_history_lists_the_jobs_with_status_and_cost_and_sends_a_video_again(rt, db, user, slow_worker):
    assert user.say("/history") == 200
    assert user.texts()[-1] == texts.text("ru", "no_job")

    done = _finished_job(rt, db, user, "Реклама кофе")
    running = jobs.update_job(
        db,
        new_job(db, "Реклама чая", user_id=user.user_id, chat_id=user.chat_id)["id"],
        status="awaiting_image_approval",
    )
    new_job(db, "Чужая задача")  # another chat's job is never listed

    assert user.say("/history") == 200
    call = user.sent("sendMessage")[-1]
    lines = call.params["text"].split("\n\n")
    assert lines[0] == "🗂 Ваши последние задачи:" and len(lines) == 3
    assert "Реклама чая" in lines[1] and "Обработка — ждёт вашего решения по изображениям · 💰 ≈ $0.00" in lines[1]
    assert running["id"] in lines[1]
    assert "Реклама кофе" in lines[2] and "Завершено · 💰 ≈ $1.20" in lines[2]  # 0.75 + 0.45
    [button] = inline_buttons(call)
    assert button == {"text": "🎬 2. Реклама кофе", "callback_data": f"hv|{done['id']}"}

    assert user.press(button, sent_message(call)) == 200
    # the webhook answered the tap and handed the upload to the worker (InvocationType=Event)
    assert user.callback_answers()[-1] == "🎬 Отправляю ролик"
    assert slow_worker.invocations == ["HandleSlowUpdateFunction"]
    assert slow_worker.wait_idle(30)
    [video] = user.sent("sendVideo")
    assert video.files["video"]["size"] == len(MP4) * 50
    assert video.params["caption"] == "🎬 Ролик «Реклама кофе» ещё раз\n💰 Стоимость: ≈ $1.20"
    assert slow_worker.async_runs == [("HandleSlowUpdateFunction", 0, "ok")]


def test_history_never_sends_another_chats_or_a_deleted_video(setup, rt, db, user, slow_worker):
    done = _finished_job(rt, db, user, "Реклама кофе")
    stranger = TelegramUser(user.fake, lambda_poster(lambda: setup.rt))
    assert stranger.post(stranger.callback_update(f"hv|{done['id']}")) == 200
    assert stranger.callback_answers() == [texts.text("ru", "history_gone")]
    assert slow_worker.invocations == []  # refused in the webhook: nothing handed over
    # The stored file is gone (the bucket's lifecycle expired it): the worker finds out and says so
    jobs.update_job(db, done["id"], final_video_path=storage.job_key(done["id"], "expired.mp4"))
    assert user.post(user.callback_update(f"hv|{done['id']}")) == 200
    assert slow_worker.wait_idle(30)
    assert user.callback_answers()[-1] == texts.text("ru", "history_sent")
    assert user.texts()[-1] == texts.text("ru", "history_gone")
    assert user.fake.calls_to("sendVideo") == []


def test_a_resend_run_again_by_lambda_sends_the_video_once_and_a_failed_one_is_retried(rt, db, user, slow_worker):
    from handle_slow_update.app import lambda_handler as handle_slow_update

    done = _finished_job(rt, db, user, "Реклама кофе")
    event = {"kind": "resend_video", "chat_id": user.chat_id, "lang": "ru", "job_id": done["id"], "request_id": "tap-1"}
    assert handle_slow_update.run(rt, event, None) == {"sent": True}
    # Lambda delivers the same event again (an async retry after a lost answer): nothing is resent
    assert handle_slow_update.run(rt, event, None) == {"sent": False, "reason": "duplicate"}
    assert len(user.sent("sendVideo")) == 1
    # Telegram down for the first run of another tap: the run fails, Lambda runs it again, sent once
    for _ in range(3):  # bot.call's three attempts
        user.fake.fail_next("sendVideo", 502)
    assert user.press({"callback_data": f"hv|{done['id']}"}) == 200
    assert slow_worker.wait_idle(30)
    assert [run[2] for run in slow_worker.async_runs] == ["VendorUnavailable", "ok"]
    assert len(user.sent("sendVideo")) == 2


def test_status_and_the_delivered_video_show_the_cost(rt, db, user):
    job = _finished_job(rt, db, user, "Реклама кофе")
    assert user.say("/status") == 200
    assert user.texts()[-1].splitlines()[-1] == "💰 Стоимость: ≈ $1.20"
    rt.notifier.send(job, VideoReady(job["final_video_path"]))
    assert user.sent("sendVideo")[-1].params["caption"].endswith("\n💰 Стоимость: ≈ $1.20")
