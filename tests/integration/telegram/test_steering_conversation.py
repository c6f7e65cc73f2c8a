"""Steering the bot, spoken only in Telegram's protocol to the local webhook, with the real
state machine offline behind it: a voice note becomes a job, /settings change the next job,
/history lists the jobs."""

from __future__ import annotations

import re
import time

import pytest
from PIL import Image

from tests.fakes.fixtures import openai_vars, runway_vars
from tests.fakes.telegram_fixtures import (
    TelegramUser,
    accepted_job_id,
    inline_buttons,
    sent_message,
)
from videobot import usage
from videobot.data import gates, jobs
from videobot.data import segments as segment_rows
from videobot.pipeline import GateId, GateStage
from videobot.telegram.estimates import estimated_job_usd, redo_usd

GATE_TIMEOUT = 120
OGG = b"OggS\x00\x02" + bytes(range(256)) * 40


def _question(user: TelegramUser, fragment: str, after: int = 0):
    call = user.wait_for_text(fragment, timeout=GATE_TIMEOUT, after=after)
    approve, reject = inline_buttons(call)
    return call, approve, reject


def _reject_and_wait(db, user: TelegramUser, pipeline, job_id: str, question, reject) -> None:
    assert user.press(reject, sent_message(question)) == 200
    assert user.callback_answers()[-1] == "❌ Отменяю задачу…"
    user.wait_for_text(f"❌ Задача {job_id} отменена", timeout=GATE_TIMEOUT)
    job = jobs.get_job(db, job_id)
    deadline = time.monotonic() + GATE_TIMEOUT
    while pipeline.execution(job)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.1)


def test_a_voice_note_becomes_a_job_with_its_transcription_echoed(db, user, fake_telegram, fake_openai, pipeline):
    fake_telegram.add_file("AwACAgIAAxkBAAIC-topic", OGG, file_path="voice/file_11.oga")
    fake_openai.transcribe_next("Реклама кофе на рассвете")
    update = user.message_update(template="telegram_message_voice")
    update["message"]["voice"].update({"file_id": "AwACAgIAAxkBAAIC-topic", "file_size": len(OGG)})
    # OpenAI hears the voice; the pipeline itself stays offline
    with pipeline.using(
        pipeline.runtime_with(**{**openai_vars(fake_openai), "LLM_PROVIDER": "offline", "TTS_PROVIDER": "offline"})
    ):
        assert user.post(update) == 200
        # the webhook answered before any download: the state machine fetches and transcribes
        accepted = user.wait_for_text("✅ Запрос принят! ID: ")
        assert fake_telegram.calls_to("getFile") == [] or fake_telegram.calls.index(
            fake_telegram.calls_to("getFile")[0]
        ) > fake_telegram.calls.index(accepted)
        echo = user.wait_for_text("🎙 Распознано:")
        assert echo.params["text"] == "🎙 Распознано: «Реклама кофе на рассвете»"
        job_id = accepted_job_id(accepted.params["text"])
        # The job runs like a typed topic: its script comes for approval
        script, _, reject = _question(user, "📝 Сценарий готов!")
        assert fake_telegram.calls.index(echo) < fake_telegram.calls.index(script)
        assert "Реклама кофе на рассвете" in script.params["text"]
        job = jobs.get_job(db, job_id)
        assert job["prompt"] == "Реклама кофе на рассвете" and job["source_update_id"] == update["update_id"]
        # the transcription is part of what the job cost (the offline script writer's line is free)
        assert [r["stage"] for r in usage.rows(db, job_id) if r["vendor"] != "offline"] == ["transcribe_topic"]
        # visible in the console as a stage of its own, before the script
        entered = [
            e["stateEnteredEventDetails"]["name"] for e in pipeline.history(job) if e["type"] == "TaskStateEntered"
        ]
        assert entered[:2] == ["TranscribeVoiceTopic", "GenerateScript"]
        _reject_and_wait(db, user, pipeline, job_id, script, reject)
    [sent] = fake_openai.transcribed
    assert sent["model"] == "gpt-transcribe" and sent["filename"] == "file_11.ogg"


def test_a_voice_note_telegram_will_not_hand_over_fails_the_job_with_a_clear_message(
    db, user, fake_telegram, fake_openai, pipeline
):
    # The message does not say how big it is; getFile refuses it ("file is too big")
    fake_telegram.add_file("AwACAgIAAxkBAAIC-huge", OGG, file_size=25 * 1024 * 1024)
    update = user.message_update(template="telegram_message_voice")
    update["message"]["voice"].update({"file_id": "AwACAgIAAxkBAAIC-huge", "file_size": 0})
    before = len(fake_telegram.calls)
    with pipeline.using(
        pipeline.runtime_with(**{**openai_vars(fake_openai), "LLM_PROVIDER": "offline", "TTS_PROVIDER": "offline"})
    ):
        assert user.post(update) == 200
        accepted = user.wait_for_text("✅ Запрос принят! ID: ")
        job_id = accepted_job_id(accepted.params["text"])
        user.wait_for_text("🎙 Голосовое сообщение слишком большое: бот может скачать не больше 20 МБ.")
        job = jobs.get_job(db, job_id)
        deadline = time.monotonic() + GATE_TIMEOUT
        while pipeline.execution(job)["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the execution did not end"
            time.sleep(0.1)
    job = jobs.get_job(db, job_id)
    assert job["status"] == "failed" and job["error_message"].startswith("VoiceNotDownloadable")
    assert jobs.active_job_for_chat(db, user.chat_id) is None
    assert fake_openai.transcribed == []
    assert [c.method for c in fake_telegram.calls[before:] if c.method in ("getFile", "downloadFile")] == ["getFile"]
    assert not any("Сценарий" in t for t in user.texts())


def test_settings_change_the_next_jobs_ratio_and_voice_and_history_lists_the_jobs(rt, db, user, pipeline):
    # A first job with the defaults
    assert user.say("Реклама чая") == 200
    first = accepted_job_id(user.wait_for_text("✅ Запрос принят!").params["text"])
    script, _, reject = _question(user, "📝 Сценарий готов!")
    _reject_and_wait(db, user, pipeline, first, script, reject)
    assert (jobs.get_job(db, first)["aspect_ratio"], jobs.get_job(db, first)["voice"]) == ("16:9", None)

    # /settings: 9:16 and a female voice
    assert user.say("/settings") == 200
    menu = user.wait_for_text("⚙️ Настройки")
    buttons = {b["text"].removeprefix("✓ "): b for b in inline_buttons(menu)}
    assert user.press(buttons["9:16"], sent_message(menu)) == 200
    assert user.press(buttons["female"], sent_message(menu)) == 200
    assert user.callback_answers()[-2:] == ["✅ Сохранено: 9:16", "✅ Сохранено: female"]

    # The next job is made at 9:16 with that voice
    mark = len(user.fake.calls)
    assert user.say("Реклама кофе") == 200
    second = accepted_job_id([t for t in user.texts() if t.startswith("✅ Запрос принят!")][-1])
    job = jobs.get_job(db, second)
    assert (job["aspect_ratio"], job["voice"]) == ("9:16", "female")
    script, approve, _ = _question(user, "📝 Сценарий готов!", after=mark)
    assert user.press(approve, sent_message(script)) == 200
    images, _, reject_images = _question(user, "🖼 Изображения готовы", after=mark)
    first_image = segment_rows.get_segment(db, second, 0)["image_path"]
    with Image.open(rt.storage.local_path(first_image)) as picture:
        assert picture.width < picture.height  # portrait
    _reject_and_wait(db, user, pipeline, second, images, reject_images)

    # /history lists both jobs, newest first, with their status and cost
    assert user.say("/history") == 200
    history = user.wait_for_text("🗂 Ваши последние задачи:").params["text"].split("\n\n")
    assert len(history) == 3
    assert history[1].startswith("1. ") and "Реклама кофе" in history[1] and second in history[1]
    assert history[2].startswith("2. ") and "Реклама чая" in history[2] and first in history[2]
    assert all("Отменено · 💰 ≈ $0.00" in line for line in history[1:])
    count = db.query_one(f"SELECT count(*) AS n FROM {jobs.JOBS} WHERE chat_id = %s", (user.chat_id,))["n"]
    assert count == 2


def _entered(db, pipeline, job_id: str) -> list[str]:
    """The states entered: the job's execution's, then its children's (each segment's media)."""
    return pipeline.entered(jobs.get_job(db, job_id))


def _wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + GATE_TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_feedback_rewrites_the_script_and_redo_3_makes_exactly_image_3_again(db, user, fake_telegram, pipeline, capfd):
    mark = len(fake_telegram.calls)
    assert user.say("Реклама кофе") == 200
    job_id = accepted_job_id(user.wait_for_text("✅ Запрос принят!", after=mark).params["text"])
    first_script, old_approve, _ = _question(user, "📝 Сценарий готов!", after=mark)
    before = jobs.get_job(db, job_id)["script_text"]

    # A plain message at the script gate (not a reply) is feedback: rewritten, asked about again
    mark = len(fake_telegram.calls)
    assert user.say("Сделай смешнее и добавь шутку про понедельник") == 200
    revising = user.wait_for_text("🔄 Переписываю сценарий", after=mark).params["text"]
    assert "(правка 1 из 5)" in revising and "Всего на этот ролик потрачено ≈ $0.00." in revising
    script, approve, _ = _question(user, "📝 Сценарий готов!", after=mark)
    after = jobs.get_job(db, job_id)["script_text"]
    assert after != before and after.startswith("Сделай смешнее")  # the offline writer opens with the words
    assert after in script.params["text"]
    assert not any("У вас уже есть задача" in t for t in user.texts())
    assert jobs.get_job(db, job_id)["status"] == "awaiting_script_approval"

    # The first round's ✅ is dead: it changes nothing, says why and loses its buttons
    assert user.press(old_approve, sent_message(first_script)) == 200
    assert user.callback_answers()[-1] == "Эта кнопка от прежней версии. Ответьте на последний вопрос ниже."
    gate = gates.get_gate(db, job_id, GateId("script"))
    assert gate["decided_at"] is None and gate["revisions"] == 1
    assert (
        jobs.get_job(db, job_id)["status"] == "awaiting_script_approval"
        and not jobs.get_job(db, job_id)["script_approved"]
    )
    edit = user.sent("editMessageReplyMarkup")[-1]
    assert str(edit.params["message_id"]) == str(sent_message(first_script)["message_id"])
    # The current round's ✅ approves
    assert user.press(approve, sent_message(script)) == 200
    user.wait_for_text("✅ Сценарий утверждён!", after=mark)

    # At the image gate, "переделай 3" makes segment 3 again and leaves the other nine alone
    _images, _, _ = _question(user, "🖼 Изображения готовы", after=mark)
    _wait_until(lambda: jobs.get_job(db, job_id)["audio_path"], "the voice-over")  # it writes segment rows too
    rows = {s["segment_index"]: s for s in segment_rows.get_segments(db, job_id)}
    mark = len(fake_telegram.calls)
    assert user.say("переделай 3") == 200
    assert (
        "🔄 Делаю заново изображение 3, остальные не трогаю (правка 1 из 5)"
        in user.wait_for_text("🔄", after=mark).params["text"]
    )
    question, _, reject = _question(user, "🖼 Переделано: изображение 3, см. выше.", after=mark)
    again = {s["segment_index"]: s for s in segment_rows.get_segments(db, job_id)}
    assert {i for i in range(10) if again[i] != rows[i]} == {2}
    assert again[2]["image_generated_at"] > rows[2]["image_generated_at"] and again[2]["status"] == "image_ready"
    assert again[2]["image_runway_task_id"] != rows[2]["image_runway_task_id"]
    [redone] = [c for c in user.sent("sendPhoto") if fake_telegram.calls.index(c) >= mark]  # image 3, by number
    assert redone.params["caption"] == "🖼 Изображение 3 из 10"
    assert gates.get_gate(db, job_id, GateId("images"))["revisions"] == 1

    # A person watching the execution sees the loops
    entered = _entered(db, pipeline, job_id)
    assert entered.count("AwaitScriptApproval") == 2 and "ReviseScript" in entered
    assert entered.count("AwaitImageApproval") == 2 and "RedoImages" in entered
    # the first round's Map twice (segment 0's image, then the nine made from it), the redo's once
    assert entered.count("GenerateImages") == 3
    _reject_and_wait(db, user, pipeline, job_id, question, reject)

    # moto's interpreter logged its expected misses (the IsPresent choices, the rejection's
    # Catch) to its file, not to the terminal
    terminal = capfd.readouterr()
    assert "NoSuchJsonPathError" not in terminal.err + terminal.out
    assert "FailureEventException" not in terminal.err + terminal.out
    assert "NoSuchJsonPathError" in pipeline.interpreter_log.read_text(encoding="utf-8")


def test_a_redo_with_words_is_quoted_at_what_the_ledger_then_reserves(
    db, user, fake_telegram, fake_openai, fake_runway, pipeline
):
    """Issue 22, item 5's gap: "переделай 3 ярче" pays Runway for image 3 and the OpenAI call
    that rewrites its prompt with the words. The price said before the redo is both, from the
    ledger's own tables: it equals what the ledger reserves for that redo."""
    vendors = {
        **openai_vars(fake_openai),
        **runway_vars(fake_runway),
        "LLM_PROVIDER": "openai",
        "TTS_PROVIDER": "offline",
        "IMAGE_FIRST_POLL_SECONDS": "0",
        "POLL_INTERVAL_SECONDS": "0",
        "REDO_CONFIRM_USD": "0",  # every redo waits for its tap: the quote comes before any spend
    }
    with pipeline.using(pipeline.runtime_with(**vendors)):
        mark = len(fake_telegram.calls)
        assert user.say("Реклама кофе") == 200
        job_id = accepted_job_id(user.wait_for_text("✅ Запрос принят!", after=mark).params["text"])
        script, approve, _ = _question(user, "📝 Сценарий готов!", after=mark)
        assert user.press(approve, sent_message(script)) == 200
        _question(user, "🖼 Изображения готовы", after=mark)
        before = {r["id"] for r in usage.rows(db, job_id)}

        mark = len(fake_telegram.calls)
        assert user.say("переделай 3 ярче") == 200
        offer = user.wait_for_text("🔁 Переделать изображение 3 с пожеланием «ярче»?", after=mark)
        quoted = float(re.search(r"Это будет стоить ≈ \$(\d+\.\d\d)\.", offer.params["text"]).group(1))
        assert {r["id"] for r in usage.rows(db, job_id)} == before  # nothing reserved before the tap
        redo, _ = inline_buttons(offer)
        assert user.press(redo, sent_message(offer)) == 200
        question, _, reject = _question(user, "🖼 Переделано: изображение 3, см. выше.", after=mark)

        redone = [r for r in usage.rows(db, job_id) if r["id"] not in before]
        assert sorted((r["stage"], r["vendor"], r["segment_index"]) for r in redone) == [
            ("generate_images", "runway", 2),
            ("revise_stage", "openai", None),
        ]
        llm = next(float(r["reserved_usd"]) for r in redone if r["vendor"] == "openai")
        assert 0 < llm < 0.01  # the sub-cent call the quote once left out
        assert quoted == round(sum(float(r["reserved_usd"]) for r in redone), 2)
        assert quoted != round(sum(float(r["reserved_usd"]) for r in redone if r["vendor"] == "runway"), 2)
        _reject_and_wait(db, user, pipeline, job_id, question, reject)


def test_a_redo_over_the_budget_is_refused_and_the_gate_stays_open(db, user, fake_telegram, fake_runway, pipeline):
    """A redo the daily budget cannot pay for now is refused in plain words, with its price and
    when it would fit; nothing is paid or held, and the gate still takes ✅: the job goes on to
    its clips, which the job's hold still covers (the redo never ate into it)."""
    vendors = {
        **runway_vars(fake_runway),
        "LLM_PROVIDER": "offline",
        "TTS_PROVIDER": "offline",
        "IMAGE_FIRST_POLL_SECONDS": "0",
        "CLIP_FIRST_POLL_SECONDS": "0",
        "POLL_INTERVAL_SECONDS": "0",
        "MAX_JOBS_PER_USER_PER_DAY": "0",
    }
    priced = pipeline.runtime_with(**vendors)
    job_usd = estimated_job_usd(priced, "16:9")
    image_usd = round(redo_usd(priced, GateStage.IMAGES, 1, "16:9", segments=[2]), 2)
    assert image_usd > 0
    budget = job_usd + image_usd / 2  # the job fits, the job and one image more do not
    with pipeline.using(pipeline.runtime_with(**vendors, MAX_USD_PER_USER_PER_DAY=f"{budget:.4f}")):
        mark = len(fake_telegram.calls)
        assert user.say("Реклама кофе") == 200
        job_id = accepted_job_id(user.wait_for_text("✅ Запрос принят!", after=mark).params["text"])
        script, approve, _ = _question(user, "📝 Сценарий готов!", after=mark)
        assert user.press(approve, sent_message(script)) == 200
        images, approve_images, _ = _question(user, "🖼 Изображения готовы", after=mark)
        ledger_before = [(r["call_key"], r["state"], r["amount_usd"]) for r in usage.rows(db, job_id)]
        spent_before = usage.spent(db, user.user_id).user_usd
        runway_tasks = len(fake_runway.tasks)

        mark = len(fake_telegram.calls)
        assert user.say("переделай 3") == 200
        refused = user.wait_for_text("⛔ Эта правка стоит", after=mark).params["text"]
        assert f"≈ ${image_usd:.2f}" in refused and f"бюджет — ${budget:.2f}" in refused
        assert "Ничего не оплачено, этап ждёт вашего ответа" in refused
        # this video's own cost and the redo cannot fit together: no wait is promised
        assert "Вместе с этим роликом (≈ $" in refused and "опустятся ниже" not in refused
        assert not any(t.startswith("🔄") for t in user.texts()[-3:])
        # nothing paid, reserved or held; the gate is open at its first round, the job waits
        assert [(r["call_key"], r["state"], r["amount_usd"]) for r in usage.rows(db, job_id)] == ledger_before
        assert usage.spent(db, user.user_id).user_usd == pytest.approx(spent_before)
        assert len(fake_runway.tasks) == runway_tasks
        gate = gates.get_gate(db, job_id, GateId("images"))
        assert gate["decided_at"] is None and gate["revisions"] == 0
        job = jobs.get_job(db, job_id)
        assert job["status"] == "awaiting_image_approval" and pipeline.execution(job)["status"] == "RUNNING"

        # ✅ still works, and the clips are made from the job's hold
        assert user.press(approve_images, sent_message(images)) == 200
        user.wait_for_text("✅ Изображения утверждены!", after=mark)
        clips, _, reject = _question(user, "🎞 Клипы готовы", after=mark)
        assert jobs.get_job(db, job_id)["status"] == "awaiting_video_approval"
        _reject_and_wait(db, user, pipeline, job_id, clips, reject)
