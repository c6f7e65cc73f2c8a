"""The conversation at a gate, the parts that need no state machine: any text at the script
gate is feedback, words without numbers at the image or clip gate are offered as one tap to
redo all ten with that redo's cost, a button of an earlier round is dead, "покажи 7", the
redone segments shown by number in correct plural forms, the estimated cost before the spend.
The loops themselves run in tests/integration/telegram/test_conversation_at_gates.py."""

from __future__ import annotations

import json

import pytest

from tests.fakes.telegram_fixtures import TelegramUser, inline_buttons, lambda_poster
from tests.helpers import (
    MP4,
    PricedClips,
    PricedImages,
    StartingStepFunctions,
    job_at_gate,
    new_job,
    record_paid,
    replace_part,
    use,
)
from tests.helpers import with_media as _with_media
from videobot.data import gates, jobs
from videobot.data import segments as segment_rows
from videobot.notify import GateReady, notify_once
from videobot.pipeline import MEDIA_KINDS, GateId, RefusalKind
from videobot.telegram import texts, ui
from videobot.telegram.feedback import parse_show


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


class _StepFunctions:
    """Stands in for the boto3 client: records each call with the gate as it was then."""

    def __init__(self, db, job_id: str, stage: str):
        self.db, self.job_id, self.stage, self.calls = db, job_id, stage, []

    def send_task_success(self, **kwargs):
        self.calls.append(
            ("success", {**kwargs, "gate": gates.get_gate(self.db, self.job_id, GateId.parse(self.stage))})
        )
        return {}

    def send_task_failure(self, **kwargs):
        self.calls.append(
            ("failure", {**kwargs, "gate": gates.get_gate(self.db, self.job_id, GateId.parse(self.stage))})
        )
        return {}


# ---- texts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, ru, en",
    [
        (1, "1 клип", "1 clip"),
        (2, "2 клипа", "2 clips"),
        (3, "3 клипа", "3 clips"),
        (5, "5 клипов", "5 clips"),
        (10, "10 клипов", "10 clips"),
        (11, "11 клипов", "11 clips"),
        (12, "12 клипов", "12 clips"),
        (21, "21 клип", "21 clips"),
        (22, "22 клипа", "22 clips"),
        (111, "111 клипов", "111 clips"),
    ],
)
def test_counts_take_the_right_plural_form(n, ru, en):
    assert texts.counted("ru", "clip", n) == ru and texts.counted("en", "clip", n) == en


def test_what_waits_on_a_refusal_is_said_plainly():
    assert texts.spans(range(1, 10)) == "2–10" and texts.spans([0, 3, 4, 5, 8]) == "1, 4–6, 9"
    assert texts.spans([1, 2]) == "2, 3"
    assert texts.refusal_waits("ru", "image", 0, 10, (0,), tuple(range(1, 10))) == (
        "⏸ Это образец для изображений 2–10: они ждут вашего ответа."
    )
    assert texts.refusal_waits("ru", "clip", 9, 10, (6,), ()) == (
        "⏸ Остальные готовы (9 из 10): вашего ответа ждёт только клип 7."
    )
    assert (
        texts.refusal_waits("en", "clip", 8, 10, (3, 6), ()) == "⏸ 8 of 10 are ready: clips 4, 7 wait for your answer."
    )


def test_segments_are_named_by_number():
    assert texts.segment_caption("ru", "videos", [3], 10) == "🎞 Клип 4 из 10"
    assert texts.segment_caption("ru", "images", [2, 4], 10) == "🖼 Изображения 3, 5 из 10"
    assert texts.segment_caption("en", "videos", [3], 10) == "🎞 Clip 4 of 10"
    assert texts.named("ru", "clip", [6, 2]) == "клипы 3, 7" and texts.named("en", "image", [0]) == "image 1"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("покажи 7", [7]),
        ("Покажи клип 3", [3]),
        ("show 2 and 5", [2, 5]),
        ("покажи 1, 4", [1, 4]),
        ("покажи", None),
        ("покажи ярче", None),
        ("переделай 3", None),
    ],
)
def test_show_reads_the_numbers(text, expected):
    assert parse_show(text) == expected


# ---- item 1: text at an open gate is feedback -------------------------------------------------


def test_a_plain_text_at_the_script_gate_rewrites_the_script(rt, db, user, monkeypatch):
    job = job_at_gate(db, user, "script")
    sfn = _StepFunctions(db, job["id"], "script")
    replace_part(monkeypatch, rt, "sfn", sfn)
    assert user.say("Сделай смешнее и добавь шутку про понедельник") == 200
    [(kind, call)] = sfn.calls
    assert kind == "success" and json.loads(call["output"])["revise"] == {
        "feedback": "Сделай смешнее и добавь шутку про понедельник",
        "segments": [],
    }
    gate = gates.get_gate(db, job["id"], GateId("script"))
    assert gate["decision"] == "revised" and gate["revisions"] == 1
    assert gate["feedback"] == "Сделай смешнее и добавь шутку про понедельник"
    [answer] = user.texts()
    assert answer.startswith("🔄 Переписываю сценарий по вашему отзыву (правка 1 из 5)")
    assert not any("У вас уже есть задача" in t for t in user.texts())


def test_a_topic_while_no_gate_is_open_is_still_refused(db, user, monkeypatch):
    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(db, job["id"], status="generating_images")
    assert user.say("Реклама сока") == 200
    assert user.texts()[-1].startswith(
        f"⏳ У вас уже есть задача в работе: {job['id']}.\n📊 Статус: Обработка — генерирую изображения"
    )


def test_words_at_the_image_gate_offer_to_redo_all_ten_with_the_cost(rt, db, user, monkeypatch):
    job = job_at_gate(db, user, "images")
    sfn = _StepFunctions(db, job["id"], "images")
    replace_part(monkeypatch, rt, "sfn", sfn)
    replace_part(monkeypatch, rt, "images", PricedImages())
    assert user.say("сделай ярче") == 200
    [offer] = user.sent("sendMessage")
    assert offer.params["text"].startswith(
        "🔁 Переделать все 10 изображений с пожеланием «сделай ярче»? Это будет стоить ≈ $0.50."
    )
    redo, cancel = inline_buttons(offer)
    assert (redo["text"], cancel["text"]) == ("🔁 Переделать все (≈ $0.50)", "Отмена")
    assert sfn.calls == [] and gates.get_gate(db, job["id"], GateId("images"))["decided_at"] is None  # nothing paid yet

    assert user.press(redo, offer.result) == 200
    [(kind, call)] = sfn.calls
    assert kind == "success" and json.loads(call["output"])["revise"] == {
        "feedback": "сделай ярче",
        "segments": list(range(10)),
    }
    assert call["gate"]["redo_segments"] == list(range(10)) and call["gate"]["revisions"] == 1
    assert user.callback_answers()[-1] == "🔁 Переделываю все"
    assert user.texts()[-1].startswith("🔄 Делаю заново все 10 изображений (правка 1 из 5).")
    assert user.sent("editMessageReplyMarkup")  # the offer's buttons are gone
    # A second tap on the same offer changes nothing
    assert user.press(redo, offer.result) == 200
    assert len(sfn.calls) == 1
    assert user.callback_answers()[-1] == "Это предложение устарело: этап уже решён или изменился."


def test_the_offer_can_be_declined_and_a_clip_gate_offer_costs_the_clips(rt, db, user, monkeypatch):
    job = job_at_gate(db, user, "videos")
    sfn = _StepFunctions(db, job["id"], "videos")
    replace_part(monkeypatch, rt, "sfn", sfn)
    replace_part(monkeypatch, rt, "clips", PricedClips())
    assert user.say("помедленнее") == 200
    [offer] = user.sent("sendMessage")
    assert "Переделать все 10 клипов с пожеланием «помедленнее»? Это будет стоить ≈ $2.50." in offer.params["text"]
    _, cancel = inline_buttons(offer)
    assert user.press(cancel, offer.result) == 200
    assert user.callback_answers()[-1] == "Хорошо, ничего не переделываю."
    assert sfn.calls == [] and gates.get_gate(db, job["id"], GateId("videos"))["offered_feedback"] is None
    assert gates.get_gate(db, job["id"], GateId("videos"))["decided_at"] is None


def test_an_offer_from_before_a_revision_is_dead(rt, db, user, monkeypatch):
    job = job_at_gate(db, user, "images")
    sfn = _StepFunctions(db, job["id"], "images")
    replace_part(monkeypatch, rt, "sfn", sfn)
    assert user.say("сделай теплее") == 200
    [offer] = user.sent("sendMessage")
    redo, _ = inline_buttons(offer)
    db.execute(f"UPDATE {gates.GATES} SET revisions = 1 WHERE job_id = %s", (job["id"],))  # a revision since
    assert user.press(redo, offer.result) == 200
    assert sfn.calls == [] and user.callback_answers()[-1].startswith("Это предложение устарело")


# ---- item 2: the buttons of an old round are dead ---------------------------------------------


def test_an_old_rounds_approve_button_changes_nothing_and_says_why(rt, db, user, monkeypatch):
    job = job_at_gate(db, user, "script", revisions=1)
    sfn = _StepFunctions(db, job["id"], "script")
    replace_part(monkeypatch, rt, "sfn", sfn)
    assert user.press({"callback_data": ui.callback_data(True, job["id"], "script", 0)}) == 200
    assert sfn.calls == []
    assert user.callback_answers()[-1] == "Эта кнопка от прежней версии. Ответьте на последний вопрос ниже."
    gate = gates.get_gate(db, job["id"], GateId("script"))
    assert gate["decided_at"] is None and jobs.get_job(db, job["id"])["script_approved"] in (None, 0)
    assert user.sent("editMessageReplyMarkup")  # the dead buttons are taken off
    # The current round's button approves
    assert user.press({"callback_data": ui.callback_data(True, job["id"], "script", 1)}) == 200
    assert [kind for kind, _ in sfn.calls] == ["success"]
    assert gates.get_gate(db, job["id"], GateId("script"))["decision"] == "approved"


# ---- item 3: show what was redone, and any clip on request ------------------------------------


def test_after_redo_4_the_clip_gate_shows_clip_4_by_number(rt, db, user):
    job = _with_media(rt, db, job_at_gate(db, user, "videos"))
    assert notify_once(db, rt.notifier, jobs.get_job(db, job["id"]), GateReady("videos", 1, (3,)))
    [clip] = user.sent("sendVideo")
    assert clip.params["caption"] == "🎞 Клип 4 из 10"
    question = user.texts()[-1]
    assert question.startswith("🎞 Переделано: клип 4, см. выше. Выберите действие:")
    assert "Первые 1" not in question and "первые 1" not in question
    buttons = inline_buttons(user.sent("sendMessage")[-1])
    assert [b["callback_data"] for b in buttons] == [f"a:{job['id']}:v:1", f"r:{job['id']}:v:1"]

    assert notify_once(db, rt.notifier, jobs.get_job(db, job["id"]), GateReady("videos", 2, (2, 4)))
    album = user.sent("sendMediaGroup")[-1]
    assert [m.get("caption") for m in album.params["media"]] == ["🎞 Клип 3 из 10", "🎞 Клип 5 из 10"]
    assert user.texts()[-1].startswith("🎞 Переделано: клипы 3, 5, см. выше.")


def test_after_redo_3_the_image_gate_shows_image_3_by_number_in_english(setup, rt, db, user):
    english = TelegramUser(user.fake, lambda_poster(lambda: setup.rt), language_code="en")
    english.say("/help")  # the chat's language is remembered from its messages
    job = _with_media(rt, db, job_at_gate(db, english, "images"))
    assert notify_once(db, rt.notifier, jobs.get_job(db, job["id"]), GateReady("images", 1, (2,)))
    [photo] = english.sent("sendPhoto")
    assert photo.params["caption"] == "🖼 Image 3 of 10"
    assert english.texts()[-1].startswith("🖼 Made again: image 3, see above.")


def test_show_7_at_the_clip_gate_sends_clip_7(rt, db, user):
    job = _with_media(rt, db, job_at_gate(db, user, "videos"))
    assert user.say("покажи 7") == 200
    [clip] = user.sent("sendVideo")
    assert clip.params["caption"] == "🎞 Клип 7 из 10"
    assert clip.files["video"]["size"] == len(MP4) + 1
    assert gates.get_gate(db, job["id"], GateId("videos"))["decided_at"] is None  # still waiting for an answer
    assert user.say("покажи 12") == 200
    assert user.texts()[-1] == "Напишите номер от 1 до 10, например: «покажи 7»."


# ---- item 5: the cost before the spend --------------------------------------------------------


def test_the_accepted_topic_states_its_estimated_cost_and_the_budget_refuses_with_numbers(
    setup, rt, db, user, monkeypatch
):
    replace_part(monkeypatch, rt, "sfn", StartingStepFunctions())
    replace_part(monkeypatch, rt, "images", PricedImages())
    replace_part(monkeypatch, rt, "clips", PricedClips())
    env = {
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:vp",
        "MAX_USD_PER_USER_PER_DAY": "5",
        "MAX_JOBS_PER_USER_PER_DAY": "0",
    }
    with use(setup, **env):
        assert user.say("Реклама кофе") == 200
        accepted = user.texts()[-1]
        # 10 images × 5 credits + 10 clips × 25 credits = 300 credits = $3.00 (offline LLM and speech)
        assert accepted.startswith("✅ Запрос принят! ID: ") and "💰 Примерная стоимость: ≈ $3.00" in accepted
        job = jobs.active_job_for_chat(db, user.chat_id)
        record_paid(db, job["id"], 2.5, stage="generate_images", model="gen4_image", credits=250)
        jobs.finish_job(db, job["id"], "completed")  # its hold's rest released
        # $2.50 spent of $5.00: the next $3.00 job does not fit
        assert user.say("Реклама чая") == 200
    assert user.texts()[-1] == (
        "⛔ За последние сутки ваши ролики стоили $2.50, а дневной бюджет — $5.00. "
        "Новый ролик стоит ≈ $3.00 и в бюджет уже не помещается.\n"
        "Заказать его можно будет, когда расходы за последние 24 часа опустятся ниже $2.00."
    )
    assert db.query_one(f"SELECT count(*) AS n FROM {jobs.JOBS} WHERE chat_id = %s", (user.chat_id,))["n"] == 1


# ---- item 6: the voice-over where the user expects it -----------------------------------------


def test_the_early_voice_over_shows_in_status_and_after_the_clips_not_among_the_images(rt, db, user, monkeypatch):
    from videobot.notify import report_progress

    job = _with_media(rt, db, job_at_gate(db, user, "videos"))
    for i in range(7):
        segment_rows.update_segment(db, job["id"], i, narration_path=f"n{i}.wav", narration_duration=4.0)
    jobs.update_job(db, job["id"], status="generating_images")
    report_progress(rt.notifier, jobs.get_job(db, job["id"]), "voiceover", 7, 10)
    assert user.sent("sendMessage", "editMessageText") == []  # not mixed into the image progress
    assert user.say("📊 Статус") == 200
    assert "🎙 Озвучка: 7/10" in user.texts()[-1].splitlines()

    jobs.update_job(db, job["id"], status="awaiting_video_approval")
    replace_part(monkeypatch, rt, "sfn", _StepFunctions(db, job["id"], "videos"))
    assert user.press({"callback_data": ui.callback_data(True, job["id"], "videos", 0)}) == 200
    assert user.texts()[-1] == "✅ Клипы утверждены! Собираю ролик...\n🎙 Озвучка: 7/10, продолжаю."
    report_progress(rt.notifier, jobs.get_job(db, job["id"]), "voiceover", 8, 10)
    assert user.texts()[-1] == "Озвучка: 8/10 ▓▓▓▓▓▓▓▓░░"


def test_a_rejected_job_that_paid_for_its_narration_says_so_in_its_cost(rt, db, user):
    from videobot.notify import JobEnded

    job = job_at_gate(db, user, "images")
    record_paid(
        db, job["id"], 0.02, stage="record_voiceover", vendor="openai", model="gpt-4o-mini-tts", characters=1000
    )
    rt.notifier.send(jobs.get_job(db, job["id"]), JobEnded("cancelled", stage="images"))
    assert user.texts()[-1].endswith("\n💰 Стоимость: ≈ $0.02 (из них озвучка ≈ $0.02)")


# ---- item 4: a refused segment pauses at its own gate -----------------------------------------


def test_the_refused_segment_pause_is_a_visible_loop_timed_like_a_gate():
    from pathlib import Path

    statemachine = Path(__file__).resolve().parents[3] / "statemachine"
    definition = json.loads((statemachine / "video_pipeline.asl.json").read_text(encoding="utf-8"))
    child = json.loads((statemachine / "segment_media.asl.json").read_text(encoding="utf-8"))["States"]
    parallel = definition["States"]["ProduceClipsAndVoiceover"]
    visuals = parallel["Branches"][0]["States"]
    for kind in MEDIA_KINDS:
        s = kind.states
        # the child ends on a refusal (its slot of the vendor Map is free) ...
        assert {"Variable": "$.poll.state", "StringEquals": "refused", "Next": s.refused} in child[s.is_ready][
            "Choices"
        ]
        assert child[s.refused]["Type"] == "Succeed"
        # ... and the user is asked once the Map has ended, in a Map of the refused segments
        assert {"Variable": f"$.{kind.gate}.refused", "BooleanEquals": True, "Next": s.ask_refused} in visuals[
            s.are_ready
        ]["Choices"]
        states = visuals[s.ask_refused]["ItemProcessor"]["States"]
        assert "MaxConcurrency" not in visuals[s.ask_refused]  # every refused segment is asked at once
        pause = states[s.await_refused]
        assert pause["Resource"].endswith(".waitForTaskToken")
        assert pause["TimeoutSecondsPath"] == "$.settings.approval_timeout_seconds"
        assert pause["Next"] == s.resolve_refused and states[s.resolve_refused]["Next"] == s.remake
        assert states[s.remake]["Next"] == s.is_refused  # refused again: asked again
    catches = {c["ErrorEquals"][0]: c["Next"] for c in parallel["Catch"]}
    assert catches["States.Timeout"] == "RecordApprovalTimeout" and catches["Rejected"] == "CancelJob"


def _refused_clip(rt, db, user: TelegramUser, index: int = 6) -> dict:
    job = _with_media(rt, db, job_at_gate(db, user, "images"))
    jobs.update_job(db, job["id"], status="generating_videos")
    db.execute(f"UPDATE {gates.GATES} SET decision = 'approved', decided_at = now() WHERE job_id = %s", (job["id"],))
    segment_rows.update_segment(
        db,
        job["id"],
        index,
        video_path=None,
        video_runway_task_id="task-refused",
        animation_prompt="steam rising",
        status="failed",
        error_message="SAFETY.INPUT.TEXT",
    )
    from videobot.stages.request_approval import request_approval

    request_approval(rt, job["id"], GateId(RefusalKind.CLIP, index), "token-refused")
    return job


def test_a_refused_clip_is_told_with_its_prompt_and_a_new_prompt_replaces_it(rt, db, user, monkeypatch, caplog):
    """Runway's failure code is a diagnostic (Runway asks it be kept from users): logged with the
    job and segment, never in the message (issue 21, item 13)."""
    from videobot.stages.revise_stage import revise_stage

    with caplog.at_level("INFO", logger="video-bot"):
        job = _refused_clip(rt, db, user)
    [told] = user.sent("sendMessage")
    assert told.params["text"].startswith(
        "🚫 Модерация сервиса генерации не пропустила клип 7 из 10.\nПромпт: «steam rising»"
    )
    assert "SAFETY" not in told.params["text"]
    [logged] = [r for r in caplog.records if r.getMessage() == "segment refused by moderation"]
    assert (logged.failure_code, logged.segment, logged.job_id) == ("SAFETY.INPUT.TEXT", 6, job["id"])
    retry, cancel = inline_buttons(told)
    assert retry["callback_data"] == f"sr|{job['id']}|refused_clip_6|0" and cancel["callback_data"] == f"sx|{job['id']}"
    sfn = _StepFunctions(db, job["id"], "refused_clip_6")
    replace_part(monkeypatch, rt, "sfn", sfn)
    assert user.say("пар над чашкой, крупный план") == 200
    [(kind, call)] = sfn.calls
    assert kind == "success" and call["gate"]["feedback"] == "пар над чашкой, крупный план"
    assert user.texts()[-1] == "✍️ Новый промпт для сегмента 7 принят, делаю сегмент заново (попытка 1 из 5, ≈ $0.00)."
    # ResolveRefusedClip: the new prompt in, the refused task out; the other clips untouched
    before = {s["segment_index"]: s for s in segment_rows.get_segments(db, job["id"])}
    revise_stage(rt, job["id"], GateId(RefusalKind.CLIP, 6))
    after = {s["segment_index"]: s for s in segment_rows.get_segments(db, job["id"])}
    assert {i for i in range(10) if after[i] != before[i]} == {6}
    assert after[6]["animation_prompt"] == "пар над чашкой, крупный план"
    assert after[6]["video_runway_task_id"] is None and after[6]["status"] == "animation_prompt_ready"
    # the old question's retry is now dead
    assert user.press(retry, told.result) == 200
    assert len(sfn.calls) == 1


def test_retry_and_cancel_at_a_refused_clip(rt, db, user, monkeypatch):
    job = _refused_clip(rt, db, user)
    [told] = user.sent("sendMessage")
    retry, cancel = inline_buttons(told)
    sfn = _StepFunctions(db, job["id"], "refused_clip_6")
    replace_part(monkeypatch, rt, "sfn", sfn)
    assert user.press(retry, told.result) == 200
    [(kind, call)] = sfn.calls
    assert kind == "success" and call["gate"]["decision"] == "revised" and call["gate"]["feedback"] is None
    assert user.callback_answers()[-1] == "🔁 Пробую ещё раз"
    assert user.texts()[-1] == "🔁 Пробую сегмент 7 ещё раз (попытка 1 из 5, ≈ $0.00)."

    gates.open_gate(db, job["id"], GateId.parse("refused_clip_6"), "token-again")  # refused again: the pause reopens
    assert user.press(cancel, told.result) == 200
    assert sfn.calls[-1][0] == "failure" and sfn.calls[-1][1]["error"] == "Rejected"
    assert gates.get_gate(db, job["id"], GateId.parse("refused_clip_6"))["decision"] == "rejected"


def test_no_answer_at_a_refused_segment_ends_like_a_gate_timeout(rt, db, user):
    from videobot import lifecycle

    job = _refused_clip(rt, db, user, index=3)
    lifecycle.record_approval_timeout(rt, job["id"])
    assert jobs.get_job(db, job["id"])["status"] == "timed_out"
    assert gates.get_gate(db, job["id"], GateId.parse("refused_clip_3"))["decision"] == "timed_out"
    assert user.texts()[-1].startswith("⌛ Вы не ответили вовремя, пока сегмент 4 ждал новый промпт, поэтому")


def test_the_bot_wide_budget_refuses_with_the_numbers(setup, rt, db, user, monkeypatch):
    replace_part(monkeypatch, rt, "sfn", StartingStepFunctions())
    replace_part(monkeypatch, rt, "images", PricedImages())
    replace_part(monkeypatch, rt, "clips", PricedClips())
    from videobot import usage

    base = usage.spent(db).bot_usd  # what other tests' jobs of this session cost
    someone = new_job(db, "Реклама чая", user_id=user.user_id + 1, chat_id=user.chat_id + 1)
    record_paid(db, someone["id"], 1.5, credits=150)
    env = {
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:vp",
        "MAX_USD_PER_DAY": f"{base + 4:.2f}",
        "MAX_USD_PER_USER_PER_DAY": "0",
        "MAX_JOBS_PER_USER_PER_DAY": "0",
    }
    with use(setup, **env):
        assert user.say("Реклама кофе") == 200  # base + 1.50 spent, + 3.00 would pass base + 4.00
    assert user.texts()[-1] == (
        f"⛔ За последние сутки ролики всех пользователей бота стоили ${base + 1.5:.2f}, "
        f"а общий дневной бюджет бота — ${base + 4:.2f}. Новый ролик стоит ≈ $3.00 и в "
        "бюджет уже не помещается. Попробуйте позже."
    )
    assert jobs.active_job_for_chat(db, user.chat_id) is None


class _Tokens:
    def __init__(self):
        self.succeeded: list[str] = []

    def send_task_success(self, **kwargs):
        self.succeeded.append(kwargs["taskToken"])
        return {}


def test_two_refused_segments_pause_at_once_each_answered_on_its_own(rt, db, user, monkeypatch):
    """C8, two pauses at once (issue 21 item 15): clips 3 and 7 refused, each its own question
    and buttons; words with no clue are asked about, words naming clip 3 go to clip 3 alone
    (never to both) and the other keeps waiting; clip 7's 🔁 retries clip 7 alone."""
    from videobot.stages.request_approval import request_approval

    job = _refused_clip(rt, db, user, index=2)
    segment_rows.update_segment(
        db,
        job["id"],
        6,
        video_path=None,
        animation_prompt="cup on a table",
        status="failed",
        error_message="SAFETY.OUTPUT.IMAGE",
    )
    request_approval(rt, job["id"], GateId(RefusalKind.CLIP, 6), "token-refused-7")
    first, second = user.sent("sendMessage")
    assert first.params["text"].startswith("🚫 Модерация сервиса генерации не пропустила клип 3 из 10")
    assert second.params["text"].startswith("🚫 Модерация сервиса генерации не пропустила клип 7 из 10")
    assert "SAFETY" not in first.params["text"] + second.params["text"]
    tokens = _Tokens()
    replace_part(monkeypatch, rt, "sfn", tokens)

    assert user.say("пар над чашкой, крупный план") == 200
    assert tokens.succeeded == [] and user.texts()[-1].startswith("Новые промпты ждут сегменты 3, 7.")
    assert user.say("3: пар над чашкой, крупный план") == 200
    assert tokens.succeeded == ["token-refused"]
    assert user.texts()[-1] == texts.text("ru", "refusal_new_prompt", n=3, round=1, limit=5, usd="0.00")
    assert gates.get_gate(db, job["id"], GateId(RefusalKind.CLIP, 2))["feedback"] == "пар над чашкой, крупный план"
    assert gates.get_gate(db, job["id"], GateId(RefusalKind.CLIP, 6))["decided_at"] is None  # still waiting

    retry, _cancel = inline_buttons(second)
    assert user.press(retry, second.result) == 200
    assert tokens.succeeded == ["token-refused", "token-refused-7"]
    assert user.texts()[-1] == texts.text("ru", "refusal_retrying", n=7, round=1, limit=5, usd="0.00")
