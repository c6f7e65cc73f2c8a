"""The whole conversation, spoken only in Telegram's protocol: Update JSON POSTed to the
local webhook (`make serve`'s endpoint, the same handler API Gateway calls), the bot's
answers read from a fake Bot API, the real state machine running offline behind it."""

from __future__ import annotations

import dataclasses
import threading
import time

from tests.fakes.telegram_fixtures import (
    TelegramUser,
    accepted_job_id,
    http_poster,
    inline_buttons,
    sent_message,
)
from tests.helpers import replace_part
from videobot import storage, usage
from videobot.data import gates, jobs
from videobot.data import segments as segment_rows
from videobot.pipeline import GateId
from videobot.providers.offline import OfflineLLM

GATE_TIMEOUT = 120


def _wait_until(condition, timeout: float = GATE_TIMEOUT, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _question(user: TelegramUser, fragment: str, after: int = 0):
    call = user.wait_for_text(fragment, timeout=GATE_TIMEOUT, after=after)
    approve, reject = inline_buttons(call)
    return call, approve, reject


class _OneLongPart(OfflineLLM):
    """The offline script writer, with segment 4's narration far too long for its 5 s, as a
    model may write it whatever the prompt asks."""

    def write_script(self, topic: str, **kwargs):
        script = super().write_script(topic, **kwargs)
        parts = list(script.segments)
        parts[3] += " Каждое утро мы обжариваем зёрна сами, перемалываем их прямо перед заваркой, " * 3
        return dataclasses.replace(script, segments=parts)


def test_from_start_to_the_delivered_video(rt, db, user, fake_telegram, monkeypatch):
    replace_part(monkeypatch, rt, "llm", _OneLongPart())
    # Given a new user greets the bot
    assert user.say("/start") == 200
    assert "Привет, Анна" in user.wait_for_text("Привет").params["text"]

    # When they send a topic, then Telegram redelivers the same update
    topic = user.message_update("Реклама кофе")
    assert user.post(topic) == 200
    accepted = user.wait_for_text("✅ Запрос принят! ID: ")
    assert user.post(topic) == 200
    job_id = accepted_job_id(accepted.params["text"])
    # Then exactly one job and one execution exist
    assert [j["id"] for j in db.query(f"SELECT id FROM {jobs.JOBS} WHERE chat_id = %s", (user.chat_id,))] == [job_id]
    assert len([t for t in user.texts() if t.startswith("✅ Запрос принят!")]) == 1

    # The script comes with inline ✅/❌ whose data is short and holds no task token
    script, approve, reject = _question(user, "📝 Сценарий готов!")
    assert approve["callback_data"] == f"a:{job_id}:s:0" and reject["callback_data"] == f"r:{job_id}:s:0"
    assert gates.get_gate(db, job_id, GateId("script"))["task_token"] not in approve["callback_data"]
    assert user.press(approve, sent_message(script)) == 200
    user.wait_for_text("✅ Сценарий утверждён!")
    # A double tap changes nothing and is answered
    assert user.press(approve, sent_message(script)) == 200
    answers = user.callback_answers()
    assert answers[-2:] == ["✅ Утверждено", "Этот этап уже утверждён. Повторное нажатие ничего не меняет."]

    # All 10 images come as one album, then the question; the keyboard's ✅ approves it
    question, approve_images, _ = _question(user, "🖼 Изображения готовы")
    albums = user.sent("sendMediaGroup")
    assert len(albums) == 1 and [m["type"] for m in albums[0].params["media"]] == ["photo"] * 10
    # A stale button from the script stage changes nothing
    assert user.press(approve, sent_message(script)) == 200
    assert jobs.get_job(db, job_id)["status"] == "awaiting_image_approval"
    assert user.say("✅ Подтвердить") == 200
    user.wait_for_text("✅ Изображения утверждены!")

    # The first 3 clips come as one album, then the question
    clips, approve_clips, _ = _question(user, "🎞 Клипы готовы")
    albums = user.sent("sendMediaGroup")
    assert len(albums) == 2 and [m["type"] for m in albums[1].params["media"]] == ["video"] * 3
    # The images question's button, pressed late, is answered and changes nothing
    assert user.press(approve_images, sent_message(question)) == 200
    assert user.callback_answers()[-1].startswith("Этот этап уже утверждён")

    # A wish for one clip is worked into its motion prompt by the LLM (offline: its pace), in one
    # call through the ledger, and only that clip is made again
    motion = segment_rows.get_segment(db, job_id, 2)["animation_prompt"]
    mark = len(fake_telegram.calls)
    assert user.say("сделай клип 3 медленнее") == 200
    assert user.wait_for_text("🔄 Делаю заново клип 3", after=mark)
    clips, approve_clips, _ = _question(user, "🎞 Переделано: клип 3, см. выше.", after=mark)
    revised = segment_rows.get_segment(db, job_id, 2)["animation_prompt"]
    assert revised.startswith("Very slow and calm: ") and "медленнее" not in revised and revised != motion
    assert [r["calls"] for r in usage.rows(db, job_id) if r["stage"] == "revise_stage"] == [1]
    # The first sendVideo is refused for longer than the bot waits: DeliverVideo is retried
    fake_telegram.fail_next("sendVideo", 429, retry_after=60)
    assert user.press(approve_clips, sent_message(clips)) == 200

    # The finished video arrives as a multipart upload under 50 MB, with a caption; after it,
    # once (the refused first attempt said nothing), that segment 4's narration was rewritten
    # shorter to fit its 5 s
    video = fake_telegram.wait_for(
        lambda c: c in user.sent("sendVideo") and c.params.get("caption", "").startswith("🎬"),
        GATE_TIMEOUT,
        "the video",
    )
    notice = fake_telegram.wait_for(
        lambda c: c in user.sent("sendMessage") and c.params["text"].startswith("✂️"), GATE_TIMEOUT, "the notice"
    )
    assert [c for c in user.sent("sendMessage") if c.params["text"].startswith("✂️")] == [notice]
    assert notice.params["text"] == (
        "✂️ Текст озвучки сегмента 4 не укладывался в его 5 сек., поэтому я переписал его короче. "
        "В ролике и в субтитрах — сокращённый текст."
    )
    calls = fake_telegram.calls
    [refused] = fake_telegram.calls_to("sendVideo", chat_id=user.chat_id, failed=True)
    assert calls.index(refused) < calls.index(video) < calls.index(notice)
    said = segment_rows.get_segment(db, job_id, 3)["text"]
    assert said != jobs.get_job(db, job_id)["script_segments"][3] and len(said.split()) < 20
    upload = video.files["video"]
    assert 0 < upload["size"] <= 50 * 1024 * 1024 and upload["data"][4:8] == b"ftyp"
    assert video.params["caption"].startswith("🎬 Ваш ролик готов!")
    _wait_until(lambda: jobs.get_job(db, job_id)["status"] == "completed", 10, "the job to complete")

    # Status, in the seed's format, from PostgreSQL
    assert user.say("📊 Статус") == 200
    status = user.wait_for_text("📊 Статус задачи").params["text"].splitlines()
    assert status[:3] == ["📊 Статус задачи", f"🆔 ID: {job_id}", "📊 Статус: Завершено"]
    assert "✅ Сценарий: утверждён" in status and "📊 Сегменты (10 шт.):" in status
    assert "• Изображения: 10/10" in status and "• Видео: 10/10" in status
    # Every callback query got its answer
    assert len(user.callback_answers()) == len(user.query_ids) == 5


def test_reject_at_the_script_then_a_new_job_and_an_old_button(db, user):
    assert user.say("Реклама чая") == 200
    first = accepted_job_id(user.wait_for_text("✅ Запрос принят!").params["text"])
    script, approve, reject = _question(user, "📝 Сценарий готов!")
    # (A text at this open gate is feedback, tests/integration/telegram/test_steering_conversation.py;
    # a second topic between gates is refused, tests/unit/telegram/test_conversation.py.)
    assert user.press(reject, sent_message(script)) == 200
    confirmation = user.wait_for_text(f"❌ Задача {first} отменена", timeout=GATE_TIMEOUT)
    assert "отменена на этапе сценария." in confirmation.params["text"]
    job = jobs.get_job(db, first)
    assert job["status"] == "cancelled" and job["script_text"] is None and job["script_approved"] == -1

    # A new job; the old job's button gets a clear answer and changes nothing
    assert user.say("Реклама сока") == 200
    second = accepted_job_id([t for t in user.texts() if t.startswith("✅ Запрос принят!")][-1])
    assert second != first
    assert user.press(approve, sent_message(script)) == 200
    assert user.callback_answers()[-1] == f"Эта кнопка от предыдущей задачи. Действует только последняя: {second}."

    # The keyboard's ❌ rejects whatever the newest job is doing
    assert user.say("❌ Отклонить") == 200
    user.wait_for_text(f"❌ Задача {second} отменена", timeout=GATE_TIMEOUT)
    assert jobs.get_job(db, second)["status"] == "cancelled"
    assert segment_rows.get_segments(db, second) == []


def test_reject_at_the_images_gate_clears_rows_and_media(rt, db, user, pipeline):
    # (Rejecting at the clips gate is the same callback on the same code path; the offline
    # pipeline tests reject at every gate. A Telegram run to the clips gate costs ~50 s.)
    assert user.say("Реклама кофе") == 200
    job_id = accepted_job_id(user.wait_for_text("✅ Запрос принят!").params["text"])
    script, approve, _ = _question(user, "📝 Сценарий готов!")
    user.press(approve, sent_message(script))
    question, _, reject_images = _question(user, "🖼 Изображения готовы")
    assert user.press(reject_images, sent_message(question)) == 200
    assert user.callback_answers()[-1] == "❌ Отменяю задачу…"
    user.wait_for_text(f"❌ Задача {job_id} отменена на этапе изображений.", timeout=GATE_TIMEOUT)
    job = jobs.get_job(db, job_id)
    _wait_until(lambda: pipeline.execution(job)["status"] != "RUNNING", what="the execution to end")
    assert pipeline.settle(), "a stage still running after the execution ended"
    assert jobs.get_job(db, job_id)["status"] == "cancelled" and segment_rows.get_segments(db, job_id) == []
    assert not rt.storage.local_path(storage.job_prefix(job_id)).exists()
    # Pressing the rejected question's button again is answered and changes nothing
    assert user.press(reject_images, sent_message(question)) == 200
    assert user.callback_answers()[-1] == "Эта задача уже закончилась (статус: Отменено). Кнопка больше не действует."


def test_wrong_or_missing_secret_is_refused_and_does_nothing(db, user, fake_telegram):
    update = user.message_update("Реклама кофе")
    assert user.post(update, secret="not-the-secret") == 403
    assert user.post(update, secret=None) == 401
    assert user.sent() == [] and jobs.latest_job_for_chat(db, user.chat_id) is None
    # The real delivery of the same update is still handled (the refusals claimed nothing)
    assert user.post(user.message_update("/help")) == 200
    assert user.wait_for_text("ℹ️")


def test_allowlist_refuses_politely_and_starts_nothing(db, pipeline, bot, fake_telegram):
    stranger = TelegramUser(fake_telegram, http_poster(bot.url))
    with pipeline.using(pipeline.runtime_with(ALLOWED_USER_IDS="42,43")):
        assert stranger.say("Реклама кофе") == 200
        assert stranger.say("📊 Статус") == 200
    assert stranger.texts() == ["🔒 Извините, этот бот работает только для приглашённых пользователей."] * 2
    assert jobs.latest_job_for_chat(db, stranger.chat_id) is None


class _ScriptHeld(OfflineLLM):
    """The offline script writer, held until the test lets it write: the job cannot reach its
    script gate (where a text is feedback on the script) before then."""

    def __init__(self):
        super().__init__()
        self.go = threading.Event()

    def write_script(self, topic: str, **kwargs):
        assert self.go.wait(GATE_TIMEOUT), "the script writer was never let go"
        return super().write_script(topic, **kwargs)


def test_two_topics_delivered_in_parallel_start_one_job(rt, db, user, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    # Given the job the first topic starts is still writing its script (a second topic handled
    # once the script is shown is feedback on it: the next test)
    held = _ScriptHeld()
    replace_part(monkeypatch, rt, "llm", held)
    # When Telegram delivers two topics of one chat over two connections at once
    updates = [user.message_update("Реклама кофе"), user.message_update("Реклама чая")]
    try:
        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(user.post, updates)) == [200, 200]
        replies = sorted(t.split("!")[0].split(":")[0] for t in user.texts())  # before the script is shown
    finally:
        held.go.set()
    # Then one job starts and the other topic is told what to do
    assert replies == ["⏳ У вас уже есть задача в работе", "✅ Запрос принят"]
    [job] = db.query(f"SELECT id, prompt FROM {jobs.JOBS} WHERE chat_id = %s", (user.chat_id,))
    script, _, reject = _question(user, "📝 Сценарий готов!")
    assert job["prompt"] in script.params["text"]
    assert user.press(reject, sent_message(script)) == 200
    user.wait_for_text("❌ Задача", timeout=GATE_TIMEOUT)


def test_a_second_topic_sent_once_the_script_is_shown_is_feedback_on_it(db, user, fake_telegram):
    # Given a job whose script is shown, waiting for the user's answer
    assert user.say("Реклама кофе") == 200
    job_id = accepted_job_id(user.wait_for_text("✅ Запрос принят!").params["text"])
    _question(user, "📝 Сценарий готов!")
    # When the user sends another topic
    mark = len(fake_telegram.calls)
    assert user.say("Реклама чая") == 200
    # Then it is an answer at the open gate (the script rewritten with it), not a second job
    assert user.wait_for_text("🔄 Переписываю сценарий", after=mark)
    script, _, reject = _question(user, "📝 Сценарий готов!", after=mark)
    assert "Реклама чая" in script.params["text"]
    assert [j["id"] for j in db.query(f"SELECT id FROM {jobs.JOBS} WHERE chat_id = %s", (user.chat_id,))] == [job_id]
    assert not any(t.startswith("⏳ У вас уже есть задача") for t in user.texts())
    assert user.press(reject, sent_message(script)) == 200
    user.wait_for_text(f"❌ Задача {job_id} отменена", timeout=GATE_TIMEOUT)
