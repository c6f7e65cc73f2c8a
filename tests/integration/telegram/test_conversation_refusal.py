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


def _to_the_clips(user: TelegramUser, fake_telegram) -> tuple[str, int]:
    """A topic, its script and images approved: the clips are being made. (job id, the mark)"""
    mark = len(fake_telegram.calls)
    assert user.say("Реклама кофе") == 200
    job_id = accepted_job_id(user.wait_for_text("✅ Запрос принят!", after=mark).params["text"])
    _approve(user, "📝 Сценарий готов!", mark)
    _approve(user, "🖼 Изображения готовы", mark)
    return job_id, mark


def _entered(db, pipeline, job_id: str) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"]
        for e in pipeline.history(jobs.get_job(db, job_id))
        if e.get("stateEnteredEventDetails")
    ]


def test_a_refused_clip_then_a_new_prompt_ends_in_a_delivered_video_with_one_extra_task(
    db, user, fake_telegram, fake_runway, pipeline
):
    fake_runway.plan("image_to_video", ["RUNNING", "FAILED"], seed=6, failure_code="SAFETY.INPUT.TEXT")
    with pipeline.using(pipeline.runtime_with(**{**runway_vars(fake_runway), **FAST})):
        job_id, mark = _to_the_clips(user, fake_telegram)

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
        job_id, mark = _to_the_clips(user, fake_telegram)
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
