"""A segment the vendor's moderation refuses does not throw the job away, spoken only in
Telegram's protocol to the local webhook, with the real state machine and the real Runway
client against the fake Runway API: the clip of segment 7 is refused (SAFETY), the user is
told which segment, why and its prompt, writes a new prompt, and the job ends in a delivered
video with exactly one extra Runway task; nothing already paid is made again. With two clips
refused, each new prompt goes to the segment the user answered."""

from __future__ import annotations

import time

from tests.fakes.fixtures import runway_vars
from tests.fakes.telegram_fixtures import TelegramUser, accepted_job_id, inline_buttons, sent_message
from videobot import usage
from videobot.data import gates, jobs
from videobot.data import segments as segment_rows
from videobot.pipeline import TERMINAL_STATUSES, GateId

TIMEOUT = 240
FAST = {
    "IMAGE_FIRST_POLL_SECONDS": "0",
    "CLIP_FIRST_POLL_SECONDS": "0",
    "POLL_INTERVAL_SECONDS": "0",
    "LLM_PROVIDER": "offline",
    "TTS_PROVIDER": "offline",
}
NEW_PROMPT = "Чашка кофе на деревянном столе, мягкий утренний свет, медленный наезд камеры"


def _approve(user: TelegramUser, fragment: str, after: int) -> None:
    question = user.wait_for_text(fragment, timeout=TIMEOUT, after=after)
    approve, _ = inline_buttons(question)
    assert user.press(approve, sent_message(question)) == 200


def _start(user: TelegramUser, fake_telegram, *approved: str) -> tuple[int, str]:
    """A topic sent and the gates named approved: where the test's messages start, and the job."""
    mark = len(fake_telegram.calls)
    assert user.say("Реклама кофе") == 200
    job_id = accepted_job_id(user.wait_for_text("✅ Запрос принят!", after=mark).params["text"])
    for question in approved:
        _approve(user, question, mark)
    return mark, job_id


def _entered(db, pipeline, job_id: str) -> list[str]:
    """The states entered: the job's execution's, then its children's (each segment's media)."""
    return pipeline.entered(jobs.get_job(db, job_id))


def test_a_refused_clip_then_a_new_prompt_ends_in_a_delivered_video_with_one_extra_task(
    db, user, fake_telegram, fake_runway, pipeline
):
    fake_runway.plan("image_to_video", ["RUNNING", "FAILED"], seed=6, failure_code="SAFETY.INPUT.TEXT")
    with pipeline.using(pipeline.runtime_with(**{**runway_vars(fake_runway), **FAST})):
        mark, job_id = _start(user, fake_telegram, "📝 Сценарий готов!", "🖼 Изображения готовы")

        # The refusal pauses segment 7 only: which segment, why, its prompt, and the choices
        refused = user.wait_for_text(
            "🚫 Модерация сервиса генерации не пропустила клип 7 из 10", timeout=TIMEOUT, after=mark
        )
        old_prompt = segment_rows.get_segment(db, job_id, 6)["animation_prompt"]
        text = refused.params["text"]
        assert f"Промпт: «{old_prompt}»" in text and "SAFETY" not in text  # Runway's codes are for the logs
        assert "✍️ Напишите новый промпт для этого сегмента" in text
        assert [b["text"] for b in inline_buttons(refused)] == ["🔁 Повторить", "❌ Отменить задачу"]
        gate = gates.get_gate(db, job_id, GateId.parse("refused_clip_6"))
        assert gate["decided_at"] is None and jobs.get_job(db, job_id)["status"] not in TERMINAL_STATUSES
        deadline = time.monotonic() + TIMEOUT
        while len([s for s in segment_rows.get_segments(db, job_id) if s["video_path"]]) < 9:  # the rest go on
            assert time.monotonic() < deadline, "the other nine clips were not made"
            time.sleep(0.1)
        paid = {
            s["segment_index"]: s["video_runway_task_id"]
            for s in segment_rows.get_segments(db, job_id)
            if s["video_path"]
        }

        # A new prompt, written as a plain message
        mark = len(fake_telegram.calls)
        assert user.say(NEW_PROMPT) == 200
        taken = user.wait_for_text("✍️ Новый промпт для сегмента 7 принят", after=mark).params["text"]
        assert "(попытка 1 из 5, ≈ $0.25)" in taken  # its own price: one gen4_turbo clip
        _approve(user, "🎞 Клипы готовы", mark)
        video = user.wait_for_text("✅ Клипы утверждены!", after=mark)
        assert video
        delivered = fake_telegram.wait_for(
            lambda c: (
                c.method == "sendVideo"
                and str(c.params.get("chat_id")) == str(user.chat_id)
                and "🎬 Ваш ролик готов!" in (c.params.get("caption") or "")
            ),
            TIMEOUT,
            "the delivered video",
        )
        assert delivered.files["video"]["data"][4:8] == b"ftyp"

    deadline = time.monotonic() + TIMEOUT
    while jobs.get_job(db, job_id)["status"] != "completed":
        assert time.monotonic() < deadline, "the job did not complete"
        time.sleep(0.1)
    # Exactly one extra Runway task: segment 7's second clip, with the new prompt; nothing paid made again
    clips = fake_runway.created("image_to_video")
    assert len(clips) == 11 and len(fake_runway.created("text_to_image")) == 10
    seventh = [t for t in clips if t.body["seed"] == 6]
    assert len(seventh) == 2 and seventh[1].body["promptText"] == NEW_PROMPT
    rows = {s["segment_index"]: s for s in segment_rows.get_segments(db, job_id)}
    assert rows[6]["animation_prompt"] == NEW_PROMPT and rows[6]["video_runway_task_id"] == seventh[1].id
    assert all(rows[i]["video_runway_task_id"] == task for i, task in paid.items())
    assert usage.summary(db, job_id)["runway_tasks"] == 21
    # The pause is a visible loop in the console, like RedoClips
    entered = _entered(db, pipeline, job_id)
    assert entered.count("AwaitRefusedClip") == 1 and entered.count("ResolveRefusedClip") == 1
    assert entered.count("SubmitClip") == 11
    assert gates.get_gate(db, job_id, GateId.parse("refused_clip_6"))["decision"] == "revised"


def test_with_two_refused_clips_a_new_prompt_goes_to_the_segment_answered(
    db, user, fake_telegram, fake_runway, pipeline
):
    """Clips 4 and 7 refused, on the real state machine: a reply to clip 7's message is clip 7's
    new prompt (not clip 4's, as when the gate was read without an order), a prompt with no clue
    is asked about, "4: …" is clip 4's; the job ends with exactly two extra Runway tasks."""
    for seed in (3, 6):
        fake_runway.plan("image_to_video", ["RUNNING", "FAILED"], seed=seed, failure_code="SAFETY.INPUT.TEXT")
    with pipeline.using(pipeline.runtime_with(**{**runway_vars(fake_runway), **FAST})):
        mark, job_id = _start(user, fake_telegram, "📝 Сценарий готов!", "🖼 Изображения готовы")
        seventh = user.wait_for_text("не пропустила клип 7 из 10", timeout=TIMEOUT, after=mark)
        user.wait_for_text("не пропустила клип 4 из 10", timeout=TIMEOUT, after=mark)

        mark = len(fake_telegram.calls)
        assert user.say("Чашка кофе на столе") == 200  # no reply, no number: which?
        assert "Новые промпты ждут сегменты 4, 7." in user.wait_for_text("Новые промпты", after=mark).params["text"]
        assert user.reply_to(seventh, NEW_PROMPT) == 200
        user.wait_for_text("✍️ Новый промпт для сегмента 7 принят", after=mark)
        assert user.say("4: Пар над чашкой крупным планом, мягкий свет") == 200
        user.wait_for_text("✍️ Новый промпт для сегмента 4 принят", after=mark)
        _approve(user, "🎞 Клипы готовы", mark)

    deadline = time.monotonic() + TIMEOUT
    while jobs.get_job(db, job_id)["status"] != "completed":
        assert time.monotonic() < deadline, "the job did not complete"
        time.sleep(0.1)
    clips = fake_runway.created("image_to_video")
    assert len(clips) == 12
    by_seed = {seed: [t.body["promptText"] for t in clips if t.body["seed"] == seed] for seed in (3, 6)}
    assert by_seed[6][1] == NEW_PROMPT and by_seed[3][1] == "Пар над чашкой крупным планом, мягкий свет"
    assert gates.get_gate(db, job_id, GateId.parse("refused_clip_6"))["feedback"] == NEW_PROMPT


def _made(db, job_id: str, column: str) -> int:
    return len([s for s in segment_rows.get_segments(db, job_id) if s[column]])


def _reject(user: TelegramUser, fragment: str, after: int) -> None:
    question = user.wait_for_text(fragment, timeout=TIMEOUT, after=after)
    _, reject = inline_buttons(question)
    assert user.press(reject, sent_message(question)) == 200


def test_two_refused_clips_wait_for_the_user_while_the_others_are_made(db, user, fake_telegram, fake_runway, pipeline):
    # Given Runway's tier 1 (two generations at once) and clips 4 and 7 refused by moderation
    for seed in (3, 6):
        fake_runway.plan("image_to_video", ["RUNNING", "FAILED"], seed=seed, failure_code="SAFETY.INPUT.TEXT")
    tier_1 = {**runway_vars(fake_runway), **FAST, "MAP_MAX_CONCURRENCY": "2", "RUNWAY_CONCURRENCY": "2"}
    with pipeline.using(pipeline.runtime_with(**tier_1)):
        mark, job_id = _start(user, fake_telegram, "📝 Сценарий готов!", "🖼 Изображения готовы")

        # Then neither pause holds one of the two slots: the eight other clips are made before
        # the user is asked, and each question says plainly what waits on the answer
        asked = [
            user.wait_for_text(
                f"🚫 Модерация сервиса генерации не пропустила клип {n} из 10", timeout=TIMEOUT, after=mark
            )
            for n in (4, 7)
        ]
        assert _made(db, job_id, "video_path") == 8
        for question in asked:
            assert "⏸ Готово 8 из 10: вашего ответа ждут клипы 4, 7." in question.params["text"]
        assert all(
            gates.get_gate(db, job_id, GateId.parse(g))["decided_at"] is None
            for g in ("refused_clip_3", "refused_clip_6")
        )

        # When the user retries both, both are made again and the clips' gate asks once
        for question in asked:
            retry, _ = inline_buttons(question)
            assert user.press(retry, sent_message(question)) == 200
        _reject(user, "🎞 Клипы готовы", mark)  # (the rest of the job is the happy path's)
    assert len(fake_runway.created("image_to_video")) == 12
    assert user.wait_for_text("❌", timeout=TIMEOUT, after=mark)


def test_a_refused_reference_image_says_it_holds_the_other_nine(db, user, fake_telegram, fake_runway, pipeline):
    # Given segment 1's image (the reference of the other nine) refused by moderation
    fake_runway.plan("text_to_image", ["RUNNING", "FAILED"], seed=0, failure_code="SAFETY.INPUT.TEXT")
    with pipeline.using(pipeline.runtime_with(**{**runway_vars(fake_runway), **FAST})):
        mark, job_id = _start(user, fake_telegram, "📝 Сценарий готов!")

        # Then the user is told that images 2-10 wait for it, and nothing is paid for them yet
        question = user.wait_for_text(
            "🚫 Модерация сервиса генерации не пропустила изображение 1 из 10", timeout=TIMEOUT, after=mark
        )
        assert "⏸ Это образец для изображений 2–10: они ждут вашего ответа." in question.params["text"]
        assert len(fake_runway.created("text_to_image")) == 1 and _made(db, job_id, "image_path") == 0

        # When the user retries it, the reference and then the nine are made
        retry, _ = inline_buttons(question)
        assert user.press(retry, sent_message(question)) == 200
        user.wait_for_text("🖼 Изображения готовы", timeout=TIMEOUT, after=mark)
        assert _made(db, job_id, "image_path") == 10 and len(fake_runway.created("text_to_image")) == 11
        _reject(user, "🖼 Изображения готовы", mark)
