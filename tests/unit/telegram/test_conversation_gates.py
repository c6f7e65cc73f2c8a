"""Issue 22, items 1, 4 and 5, spoken in Telegram's protocol to the webhook Lambda with the fake
Bot API (Step Functions a recorder): "ок" approves, "переделай все …" redoes all ten, a yes
with a wish is asked about with two buttons, /help lists what is understood; a new prompt
goes to the refused segment the user answered; every redo's own price comes before any spend,
confirmed with one tap at or above REDO_CONFIRM_USD, and "Всего … потрачено" is the job's
total."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from tests.fakes.telegram_fixtures import TelegramUser, inline_buttons, lambda_poster
from tests.helpers import PricedClips, PricedImages, job_at_gate, new_job, record_paid, replace_part, use
from tests.helpers import with_media as _with_media
from tests.reliability_support import sfn  # noqa: F401
from videobot import usage
from videobot.data import gates, jobs, ledger
from videobot.data import segments as segment_rows
from videobot.pipeline import GateId, GateStage, RefusalKind
from videobot.stages.request_approval import request_approval
from videobot.telegram.estimates import redo_usd
from videobot.telegram.feedback import parse_redo


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


@pytest.fixture
def english(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt), language_code="en", first_name="Ann")


def _revision(sfn) -> dict | None:
    """The revision sent to Step Functions, if any ({"feedback", "segments"})."""
    outputs = [json.loads(kw["output"]) for kw in sfn.named("SendTaskSuccess")]
    return outputs[-1].get("revise") if outputs else None


# ---- item 4: "ок" approves ----------------------------------------------------------------------


@pytest.mark.parametrize("said", ["ок", "Да!", "го", "давай", "👍", "👍🏻", "yes", "OK", "approve", "да, давай"])
def test_a_plain_yes_at_the_script_gate_approves_it_and_costs_nothing(db, user, sfn, said):
    job = job_at_gate(db, user, "script")
    assert user.say(said) == 200
    [success] = sfn.named("SendTaskSuccess")
    assert json.loads(success["output"]) == {"approved": True, "stage": "script"}  # no rewrite, no round spent
    gate = gates.get_gate(db, job["id"], GateId("script"))
    assert gate["decision"] == "approved" and gate["revisions"] == 0
    assert user.texts() == ["✅ Сценарий утверждён! Начинаю генерацию..."]
    assert jobs.get_job(db, job["id"])["status"] == "script_approved"


def test_ok_at_the_clip_gate_approves_and_redo_all_with_words_redoes_all_ten(rt, db, user, sfn, monkeypatch):
    job = job_at_gate(db, user, "images")
    replace_part(monkeypatch, rt, "images", PricedImages())
    assert user.say("переделай все ярче") == 200  # not the numbers hint: the priced offer of all ten
    [offer] = user.sent("sendMessage")
    assert offer.params["text"].startswith(
        "🔁 Переделать все 10 изображений с пожеланием «ярче»? Это будет стоить ≈ $0.50. "
        "Всего на этот ролик потрачено ≈ $0.00."
    )
    redo, _ = inline_buttons(offer)
    assert user.press(redo, offer.result) == 200
    assert _revision(sfn) == {"feedback": "ярче", "segments": list(range(10))}

    job = job_at_gate(db, user, "videos")
    assert user.say("ок") == 200
    assert json.loads(sfn.named("SendTaskSuccess")[-1]["output"]) == {"approved": True, "stage": "videos"}
    assert gates.get_gate(db, job["id"], GateId("videos"))["decision"] == "approved"
    assert user.texts()[-1].startswith("✅ Клипы утверждены! Собираю ролик...")


def test_a_yes_with_a_wish_is_asked_with_two_buttons(db, user, sfn):
    job = job_at_gate(db, user, "script")
    assert user.say("да, но сделай короче") == 200
    assert sfn.calls == []  # nothing decided, nothing paid
    [question] = user.sent("sendMessage")
    assert question.params["text"] == (
        "🤔 Утвердить сценарий как есть или переписать его с пожеланием «да, но сделай короче» (≈ $0.00)?"
    )
    approve, rewrite = inline_buttons(question)
    assert (approve["text"], rewrite["text"]) == ("✅ Подтвердить", "✏️ Переписать (≈ $0.00)")
    assert user.press(rewrite, question.result) == 200
    assert _revision(sfn) == {"feedback": "да, но сделай короче", "segments": []}
    gate = gates.get_gate(db, job["id"], GateId("script"))
    assert gate["decision"] == "revised" and gate["feedback"] == "да, но сделай короче"
    assert user.texts()[-1].startswith("🔄 Переписываю сценарий по вашему отзыву (правка 1 из 5).")

    # the other button approves, the same question at another job
    job = job_at_gate(db, user, "script")
    assert user.say("ок, только без шуток") == 200
    question = user.sent("sendMessage")[-1]
    approve, _ = inline_buttons(question)
    assert user.press(approve, question.result) == 200
    assert gates.get_gate(db, job["id"], GateId("script"))["decision"] == "approved"


def test_help_lists_what_is_understood(user):
    assert user.say("/help") == 200
    help_ = user.texts()[-1]
    for said in ("«ок», «да», «го», «давай» или 👍 — то же, что ✅ Подтвердить", "«переделай все ярче»", "«7: "):
        assert said in help_
    assert "дорогую (от $0.50)" in help_


def test_help_names_ranges_and_every_redo_it_shows_is_understood(user, english):
    """/help said nothing of ranges («3-5», «с 3 по 5»), which the bot understands. Every "redo"
    example it gives, in either language, names the segments it says."""
    for who, verb in ((user, "переделай"), (english, "redo")):
        assert who.say("/help") == 200
        help_ = who.texts()[-1]
        examples = [e for e in re.findall(r"[«“]([^»”]+)[»”]", help_) if e.startswith(verb)]
        ranges = [e for e in examples if re.search(r"\d+(-| по | to )\d+", e)]
        assert len(ranges) == 2, examples
        for example in ranges:
            assert parse_redo(example, 10).segments == [2, 3, 4], example
        for example in examples:
            assert parse_redo(example, 10) is not None or "все" in example or "all" in example, example


# ---- item 1: a new prompt goes to the segment the user answered -------------------------------


def _two_refused_clips(rt, db, user: TelegramUser) -> dict:
    """Clips 4 and 7 refused, each waiting at its own gate, each told in its own message."""
    job = _with_media(rt, db, job_at_gate(db, user, "images"))
    gates.close_open_gates(db, job["id"], "approved")
    jobs.update_job(db, job["id"], status="generating_videos", script_text="…", script_approved=1)
    for index in (3, 6):
        segment_rows.update_segment(db, job["id"], index, video_path=None, status="failed", animation_prompt="steam")
        request_approval(rt, job["id"], GateId(RefusalKind.CLIP, index), f"token-refused-{index}")  # says so
    return job


def _refused_message(user: TelegramUser, number: int):
    return next(c for c in user.sent("sendMessage") if f"не пропустила клип {number} из 10" in c.params["text"])


def _new_prompts(sfn) -> dict[str, str]:
    """The token each new prompt was sent on, with its words."""
    return {kw["taskToken"]: json.loads(kw["output"])["revise"]["feedback"] for kw in sfn.named("SendTaskSuccess")}


def test_a_reply_to_clip_7s_message_is_clip_7s_new_prompt(rt, db, user, sfn):
    job = _two_refused_clips(rt, db, user)
    assert user.reply_to(_refused_message(user, 7), "Чашка кофе на столе, мягкий свет") == 200
    assert _new_prompts(sfn) == {"token-refused-6": "Чашка кофе на столе, мягкий свет"}
    assert user.texts()[-1].startswith("✍️ Новый промпт для сегмента 7 принят")
    assert gates.get_gate(db, job["id"], GateId.parse("refused_clip_3"))["decided_at"] is None  # 4 still waits


def test_a_prompt_that_names_its_segment_goes_there(rt, db, user, sfn):
    job = _two_refused_clips(rt, db, user)
    assert user.say("7: чашка кофе на столе") == 200
    assert _new_prompts(sfn) == {"token-refused-6": "чашка кофе на столе"}
    assert user.texts()[-1].startswith("✍️ Новый промпт для сегмента 7 принят")
    assert gates.get_gate(db, job["id"], GateId.parse("refused_clip_6"))["feedback"] == "чашка кофе на столе"


def test_with_two_refusals_and_no_clue_the_bot_asks_which(rt, db, user, sfn):
    job = _two_refused_clips(rt, db, user)
    for said in ("Чашка кофе на столе", "✅ Подтвердить", "ок"):
        assert user.say(said) == 200
        assert sfn.calls == []
        assert user.texts()[-1].startswith(
            "Новые промпты ждут сегменты 4, 7. Ответьте на моё сообщение о нужном сегменте "
            "или начните с его номера: «7: новый промпт»."
        )
    assert all(g.decided_at is None for g in gates.open_gates_for_job(db, job["id"]))


def test_with_one_refusal_open_the_text_goes_there(rt, db, user, sfn):
    job = _two_refused_clips(rt, db, user)
    gates.decide_gate(db, job["id"], GateId.parse("refused_clip_3"), "revised")  # clip 4 answered already
    assert user.say("Чашка кофе на столе") == 200
    assert _new_prompts(sfn) == {"token-refused-6": "Чашка кофе на столе"}


# ---- item 5: a price before every spend --------------------------------------------------------


def test_a_cheap_redo_starts_at_once_with_its_own_price_and_the_jobs_total(rt, db, user, sfn, monkeypatch):
    job = job_at_gate(db, user, "videos")
    replace_part(monkeypatch, rt, "clips", PricedClips())
    record_paid(db, job["id"], 0.5, stage="generate_images", model="gen4_image", task_id="task-0", credits=50)
    assert user.say("переделай 3") == 200  # one clip, $0.25: under REDO_CONFIRM_USD ($0.50)
    assert _revision(sfn) == {"feedback": None, "segments": [2]}
    assert user.texts() == [
        "🔄 Делаю заново клип 3, остальные не трогаю (правка 1 из 5). Эта правка стоит ≈ $0.25. "
        "Всего на этот ролик потрачено ≈ $0.50."
    ]


def test_a_redo_at_the_threshold_is_confirmed_with_one_tap(rt, db, user, sfn, monkeypatch):
    job = job_at_gate(db, user, "videos")
    replace_part(monkeypatch, rt, "clips", PricedClips())
    assert user.say("переделай 3 5 медленнее") == 200  # two clips, $0.50
    assert sfn.calls == []  # nothing spent before the tap
    [offer] = user.sent("sendMessage")
    assert offer.params["text"] == (
        "🔁 Переделать клипы 3, 5 с пожеланием «медленнее»? Это будет стоить ≈ $0.50. "
        "Всего на этот ролик потрачено ≈ $0.00."
    )
    redo, cancel = inline_buttons(offer)
    assert (redo["text"], cancel["text"]) == ("🔁 Переделать (≈ $0.50)", "Отмена")
    assert user.press(redo, offer.result) == 200
    assert _revision(sfn) == {"feedback": "медленнее", "segments": [2, 4]}
    assert user.callback_answers()[-1] == "🔁 Принято, переделываю"  # not "все"
    assert gates.get_gate(db, job["id"], GateId("videos"))["redo_segments"] == [2, 4]
    assert user.texts()[-1].startswith("🔄 Делаю заново клипы 3, 5, остальные не трогаю (правка 1 из 5).")


def test_the_threshold_is_a_setting(setup, rt, db, user, sfn, monkeypatch):
    job = job_at_gate(db, user, "images")
    with use(setup, REDO_CONFIRM_USD="0") as changed:
        replace_part(monkeypatch, changed, "images", PricedImages())
        assert user.say("переделай 3") == 200  # $0.05, confirmed since every redo is
    assert sfn.calls == [] and user.texts()[-1].startswith("🔁 Переделать изображение 3? Это будет стоить ≈ $0.05.")
    assert gates.get_gate(db, job["id"], GateId("images"))["decided_at"] is None


def test_a_redo_past_runways_daily_cap_is_refused_with_when_and_the_gate_stays_open(
    setup, rt, db, user, sfn, monkeypatch
):
    """A redo Runway's daily cap cannot take now ended the job at RedoClips (DailyCapReached);
    it is refused at the gate with when it would fit, and nothing is asked of Step Functions."""
    job = job_at_gate(db, user, "videos")
    key = f"cap-test:{job['id']}"
    ledger.reserve(db, [ledger.Call(key, job["id"], "generate_clips", "runway", "gen4_turbo", 0.25)], ledger.Budgets())
    with db.connect() as conn, conn.cursor() as cur:
        used = ledger.generation_times(cur, "gen4_turbo")
    with use(setup, RUNWAY_DAILY_GENERATIONS=str(len(used))) as changed:
        replace_part(monkeypatch, changed, "clips", PricedClips())
        assert user.say("переделай 3") == 200  # one clip, $0.25: would start at once
    when = (used[0] + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M UTC")
    assert user.texts() == [
        f"⛔ Дневной лимит генераций Runway для этой модели ({len(used)} в сутки) сейчас не вмещает эту правку. "
        f"Заказать её можно будет после {when}. Ничего не оплачено, этап ждёт вашего ответа: "
        "✅ Подтвердить, ❌ Отклонить или правка поменьше."
    ]
    assert sfn.calls == []
    gate = gates.get_gate(db, job["id"], GateId("videos"))
    assert (gate["decided_at"], gate["revisions"]) == (None, 0)


@pytest.mark.parametrize("stage", ["images", "videos"])
def test_a_redo_with_words_is_quoted_with_the_llm_call_that_rewrites_its_prompts(setup, rt, db, user, sfn, stage):
    """The wish is worked into the named prompts by one LLM call before the redo: its price, from
    the ledger's own table (usage.llm_estimate), is part of the quote; a redo without words
    makes no such call and is quoted without it."""
    job = job_at_gate(db, user, stage)
    role, noun = ("revise_image_prompts", "изображение") if stage == "images" else ("revise_animation_prompts", "клип")
    with use(setup, PIPELINE_LLM_PROVIDER="openai", REDO_CONFIRM_USD="0") as changed:
        llm = usage.llm_estimate(changed.settings, role)
        media = redo_usd(changed, GateStage(stage), 1, job["aspect_ratio"], segments=[2])
        assert 0 < llm < 0.01  # sub-cent, yet it moves the rounded quote
        assert user.say("переделай 3 ярче") == 200
        assert user.say("переделай 3") == 200
    with_words, plain = user.texts()[-2:]
    assert f"Это будет стоить ≈ ${media + llm:.2f}." in with_words and "«ярче»" in with_words
    assert plain.startswith(f"🔁 Переделать {noun} 3? Это будет стоить ≈ ${media:.2f}.")
    assert f"{media + llm:.2f}" != f"{media:.2f}"


def test_a_redo_button_naming_a_segment_that_does_not_exist_is_refused(db, user, sfn):
    job = job_at_gate(db, user, "videos")
    gates.offer_redo_all(db, job["id"], GateId("videos"), "")
    assert user.press({"callback_data": f"ra|{job['id']}|v|0|2.42"}) == 200
    assert sfn.calls == [] and user.callback_answers()[-1] == "Эта кнопка больше не действует."


def _one_refused_clip(rt, db, user: TelegramUser) -> dict:
    """Clip 7 refused, the only gate open."""
    job = _with_media(rt, db, job_at_gate(db, user, "images"))
    gates.close_open_gates(db, job["id"], "approved")
    jobs.update_job(db, job["id"], status="generating_videos", script_text="…", script_approved=1)
    segment_rows.update_segment(db, job["id"], 6, video_path=None, status="failed", animation_prompt="steam")
    request_approval(rt, job["id"], GateId(RefusalKind.CLIP, 6), "token-refused-6")
    return job


@pytest.mark.parametrize("said", ["✅ Подтвердить", "ок"])
def test_approve_at_a_refused_clip_past_the_daily_cap_is_refused_like_any_retry(
    setup, rt, db, user, sfn, monkeypatch, said
):
    """✅ on the keyboard at a refused segment tries it again: a paid clip. It went to Step
    Functions unchecked (no price held, no daily cap), and RetryClip then ended the job with
    DailyCapReached; it is refused at the gate as a typed «ок» is, and the gate stays open."""
    job = _one_refused_clip(rt, db, user)
    ledger.reserve(
        db,
        [ledger.Call(f"cap-ok:{job['id']}", job["id"], "generate_clips", "runway", "gen4_turbo", 0.25)],
        ledger.Budgets(),
    )
    with db.connect() as conn, conn.cursor() as cur:
        used = ledger.generation_times(cur, "gen4_turbo")
    with use(setup, RUNWAY_DAILY_GENERATIONS=str(len(used))) as changed:
        replace_part(monkeypatch, changed, "clips", PricedClips())
        before = len(user.texts())
        assert user.say(said) == 200
    assert sfn.calls == []
    assert user.texts()[before:][-1].startswith("⛔ Дневной лимит генераций Runway для этой модели")
    gate = gates.get_gate(db, job["id"], GateId(RefusalKind.CLIP, 6))
    assert (gate["decided_at"], gate["revisions"]) == (None, 0)


def test_approve_at_a_refused_clip_holds_its_price(setup, rt, db, user, sfn, monkeypatch):
    """A retry started by ✅ is held like any revision, so it never eats what later stages need."""
    job = _one_refused_clip(rt, db, user)
    replace_part(monkeypatch, rt, "clips", PricedClips())
    before = usage.spent(db, job["user_id"]).user_usd
    assert user.say("✅ Подтвердить") == 200
    assert [json.loads(kw["output"])["stage"] for kw in sfn.named("SendTaskSuccess")] == ["refused_clip_6"]
    assert usage.spent(db, job["user_id"]).user_usd == pytest.approx(before + 0.25)
    assert user.texts()[-1].startswith("🔁 ")


def _refused_redo(user, said: str = "переделай 3") -> str:
    assert user.say(said) == 200
    (text,) = user.texts()
    return text


def test_a_redo_this_video_and_the_budget_cannot_hold_together_is_never_promised_a_wait(
    setup, rt, db, user, sfn, monkeypatch
):
    """The refusal said "можно будет заказать, когда расходы … опустятся ниже $0.85" when this
    video's own $1.00 (counted for 24 hours, the gate open for minutes) already passes that: a
    wait that cannot help. It says the revision does not fit with this video."""
    job = job_at_gate(db, user, "videos")
    record_paid(db, job["id"], 1.0, stage="generate_script", vendor="openai", model="budget-test")
    with use(setup, MAX_USD_PER_USER_PER_DAY="1.10") as changed:
        replace_part(monkeypatch, changed, "clips", PricedClips())
        text = _refused_redo(user)
    assert text == (
        "⛔ Эта правка стоит ≈ $0.25 и сейчас не помещается в дневной бюджет: за последние сутки с тем, что ещё "
        "нужно этому ролику, набирается $1.00, а бюджет — $1.10. Ничего не оплачено, этап ждёт вашего ответа: "
        "✅ Подтвердить, ❌ Отклонить или правка поменьше.\n"
        "Вместе с этим роликом (≈ $1.00 за последние сутки) такая правка в дневной бюджет не помещается."
    )
    assert sfn.calls == [] and gates.get_gate(db, job["id"], GateId("videos"))["decided_at"] is None


def test_a_redo_over_the_budget_because_of_other_videos_says_when_it_would_fit(
    setup, rt, db, english, sfn, monkeypatch
):
    """The user's other videos leave the window: then the wait is true, and said in English too."""
    other = new_job(db, user_id=english.user_id, chat_id=english.chat_id)
    jobs.update_job(db, other["id"], status="completed")
    record_paid(db, other["id"], 1.0, stage="generate_script", vendor="openai", model="budget-test")
    job_at_gate(db, english, "videos")
    with use(setup, MAX_USD_PER_USER_PER_DAY="1.10") as changed:
        replace_part(monkeypatch, changed, "clips", PricedClips())
        text = _refused_redo(english, "redo 3")
    assert text.startswith("⛔ This revision costs ≈ $0.25 and does not fit the daily budget now")
    assert text.endswith("\nYou can ask for it once the spending of the last 24 hours is below $0.85.")


def test_a_redo_over_the_bots_budget_says_so(setup, rt, db, user, sfn, monkeypatch):
    job_at_gate(db, user, "videos")
    base = usage.spent(db, user.user_id).bot_usd
    record_paid(db, None, 0.2, stage="transcribe", vendor="openai", model="budget-test", user_id=user.user_id + 1)
    with use(setup, MAX_USD_PER_DAY=f"{base + 0.3:.6f}", MAX_USD_PER_USER_PER_DAY="0") as changed:
        replace_part(monkeypatch, changed, "clips", PricedClips())
        text = _refused_redo(user)
    assert text.startswith("⛔ Эта правка стоит ≈ $0.25 и сейчас не помещается в дневной бюджет")
    assert text.endswith("\nОбщий дневной бюджет бота сейчас исчерпан: попробуйте позже.")


def test_a_redo_of_more_generations_than_a_whole_day_allows_says_it_never_fits(
    setup, rt, db, english, sfn, monkeypatch
):
    """Past the daily cap with no time that would free enough (more than the whole cap wanted):
    said so, no time, in English too; nothing asked of Step Functions."""
    job = job_at_gate(db, english, "videos")
    with use(setup, RUNWAY_DAILY_GENERATIONS="1", REDO_CONFIRM_USD="5") as changed:
        replace_part(monkeypatch, changed, "clips", PricedClips())
        assert english.say("redo 3 5") == 200
    assert english.texts() == [
        "⛔ This revision is 2 Runway generations, and the model's daily limit is 1: that many cannot be made "
        "in a day. Nothing was paid; the stage waits for your answer: ✅ Approve, ❌ Reject or a smaller revision."
    ]
    assert sfn.calls == [] and gates.get_gate(db, job["id"], GateId("videos"))["decided_at"] is None
