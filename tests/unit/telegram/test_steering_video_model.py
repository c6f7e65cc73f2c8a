"""The per-user video model (issue 14, item 6): /settings lists only the operator's models, each
with what a 50 s video costs on it; the choice is copied onto the next job, priced in the
"Запрос принят" estimate and counted by the daily budget at that model's credits; the clip stage
sends it to Runway and vendor_usage records its credits. An unknown model is refused, never
priced as 0."""

from __future__ import annotations

import pytest

from tests.fakes.fixtures import runway_vars
from tests.fakes.telegram_fixtures import (  # noqa: F401
    TelegramUser,
    fake_telegram,
    inline_buttons,
    lambda_poster,
    sent_message,
    telegram,
)
from tests.helpers import new_job, offered, use
from tests.reliability_support import sfn  # noqa: F401
from videobot import preferences, storage, usage
from videobot.config import MODELS, Settings, check_models
from videobot.data import jobs
from videobot.data import segments as segment_rows
from videobot.errors import ConfigurationError
from videobot.providers import runway
from videobot.providers.base import ClipRequest
from videobot.stages import animate_clips
from videobot.telegram import estimates

# Offline LLM and speech: a job is 10 images (segment 0 gen4_image 5 credits, 1-9 gen4_image_turbo
# 2 each: 23 credits) and 10 clips (gen4_turbo 25, gen4.5 60, veo3.1_fast 6 s x 10 = 60 credits each, no audio).
# veo3.1_fast is asked for no audio: 10 credits/s (15 with audio), 6 s per 5 s segment
JOB_USD = {"gen4_turbo": "2.73", "gen4.5": "6.23", "veo3.1_fast": "6.23"}


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


@pytest.fixture
def runway_bot(setup, fake_runway):
    with use(setup, **{**runway_vars(fake_runway), "RUNWAY_VIDEO_MODELS": "gen4_turbo,veo3.1_fast"}):
        yield fake_runway


def _settings(user: TelegramUser):
    assert user.say("/settings") == 200
    return user.sent("sendMessage")[-1]


def _model_row(call) -> list[str]:
    return [b["text"] for b in inline_buttons(call) if b["callback_data"].startswith("st|vm|")]


def test_settings_offer_only_the_operators_models_each_with_the_price_of_a_50_s_video(db, user, runway_bot):
    call = _settings(user)
    assert _model_row(call) == [
        f"✓ gen4_turbo · ${JOB_USD['gen4_turbo']}",
        f"veo3.1_fast · ${JOB_USD['veo3.1_fast']}",
    ]  # gen4.5 is not offered here
    text = call.params["text"]
    assert f"🎬 Видеомодель: gen4_turbo (ролик на 50 с ≈ ${JOB_USD['gen4_turbo']})" in text
    assert text.endswith("Кнопки ниже, по рядам: формат, голос, язык, субтитры, видеомодель (с ценой ролика на 50 с).")

    veo = next(b for b in inline_buttons(call) if b["callback_data"] == "st|vm|veo3.1_fast")
    assert user.press(veo, sent_message(call)) == 200
    assert user.callback_answers()[-1] == "✅ Сохранено: veo3.1_fast"
    assert preferences.get(db, user.user_id).video_model == "veo3.1_fast"
    edited = user.fake.calls_to("editMessageText")[-1]
    assert _model_row(edited) == [
        f"gen4_turbo · ${JOB_USD['gen4_turbo']}",
        f"✓ veo3.1_fast · ${JOB_USD['veo3.1_fast']}",
    ]

    # A model the operator does not offer (an old button, a forged one) changes nothing
    assert user.post(user.callback_update("st|vm|gen4.5")) == 200
    assert user.post(user.callback_update("st|vm|gen3a_turbo")) == 200
    assert user.callback_answers()[-2:] == ["Этот вариант сейчас недоступен."] * 2
    assert preferences.get(db, user.user_id).video_model == "veo3.1_fast"


def test_offline_there_is_no_model_row(user):
    call = _settings(user)
    assert _model_row(call) == [] and "Видеомодель" not in call.params["text"]
    assert call.params["text"].endswith("Кнопки ниже, по рядам: формат, голос, язык, субтитры.")


def test_the_choice_is_copied_onto_the_job_and_priced_before_it_starts(setup, rt, db, user, sfn, runway_bot):
    with use(setup, MAX_JOBS_PER_USER_PER_DAY="0", MAX_USD_PER_USER_PER_DAY="0") as tuned:
        preferences.choose(db, user.user_id, "video_model", "veo3.1_fast", **offered(tuned))
        assert user.say("Реклама кофе") == 200
        job = jobs.active_job_for_chat(db, user.chat_id)
        assert job.video_model == "veo3.1_fast"
        assert f"💰 Примерная стоимость: ≈ ${JOB_USD['veo3.1_fast']}" in user.texts()[-1]
        jobs.update_job(db, job.id, status="completed")

        # The operator stops offering veo3.1_fast: the next job is made on the default
        with use(setup, RUNWAY_VIDEO_MODELS="gen4_turbo") as tuned:
            assert user.say("Реклама чая") == 200
            job = jobs.active_job_for_chat(db, user.chat_id)
            assert job.video_model == "gen4_turbo"
            assert f"≈ ${JOB_USD['gen4_turbo']}" in user.texts()[-1]


def test_the_daily_budget_counts_the_chosen_models_real_credits(setup, rt, db, user, sfn, runway_bot):
    with use(setup, MAX_JOBS_PER_USER_PER_DAY="0", MAX_USD_PER_USER_PER_DAY="5") as tuned:
        preferences.choose(db, user.user_id, "video_model", "veo3.1_fast", **offered(tuned))
        assert user.say("Реклама кофе") == 200  # 6.23 USD can never fit a 5 USD budget: said so
        assert user.texts()[-1].startswith("⛔ Ролик стоит ≈ $6.23, а дневной бюджет — $5.00")
        assert f"${JOB_USD['veo3.1_fast']}" in user.texts()[-1]
        assert jobs.active_job_for_chat(db, user.chat_id) is None and sfn.named("StartExecution") == []

        preferences.choose(db, user.user_id, "video_model", "gen4_turbo", **offered(tuned))
        assert user.say("Реклама кофе") == 200  # 2.73 USD does
        assert user.texts()[-1].startswith("✅ Запрос принят")
        assert len(sfn.named("StartExecution")) == 1


def test_the_clip_stage_sends_the_jobs_model_and_records_its_billed_seconds_and_credits(rt, db, runway_env, tmp_path):
    job = new_job(db, "Реклама кофе", video_model="veo3.1_fast")
    segment_rows.create_segments(db, job["id"], [f"Часть {i}." for i in range(10)], 5.0)
    from tests.unit.test_runway import PNG_1x1

    key = rt.storage.put_bytes(storage.segment_key(job["id"], "images", 0, "png"), PNG_1x1)
    segment_rows.update_segment(db, job["id"], 0, image_path=key, animation_prompt="Slow pan over the cup")
    runway_env.plan("image_to_video", ["RUNNING"], seed=0)  # stays running: no clip to prepare here
    animate_clips.submit_clip(rt, job["id"], 0, rt.settings.execution())
    [task] = runway_env.created("image_to_video")
    assert (task.body["model"], task.body["duration"]) == ("veo3.1_fast", 6)  # 4, 6 or 8 s only: 6, trimmed to 5
    [row] = [r for r in usage.rows(db, job["id"]) if r["task_id"]]
    assert (row["model"], row["seconds"], row["credits"]) == ("veo3.1_fast", 6.0, 60.0)
    assert usage.summary(db, job["id"])["estimated_usd"] == 0.6


def test_a_model_without_a_price_is_refused_never_priced_as_0(rt, db, runway_env):
    clips = rt.clips
    with pytest.raises(ConfigurationError, match="'gen4_aleph' has no price"):
        clips.estimate(ClipRequest(prompt="", ratio="16:9", image_url="", model="gen4_aleph"))
    with pytest.raises(ConfigurationError, match="no price"):
        runway.image_credits("gen5_image", "16:9")
    with pytest.raises(KeyError):  # an estimate without credits is not a free task
        estimates._task_usd({"vendor": "runway", "model": "gen4_turbo"})
    with pytest.raises(KeyError):
        usage.task_call("nojob", "generate_clips", 0, 1, {"vendor": "runway", "model": "x"}, "clip")
    # At start-up: an operator's list naming an unknown model is refused
    with pytest.raises(ConfigurationError, match="RUNWAY_VIDEO_MODELS: 'gen4_aleph'"):
        check_models(Settings(RUNWAY_VIDEO_MODELS="gen4_turbo,gen4_aleph"))


def test_every_model_the_settings_accept_has_a_runway_price():
    for model in MODELS.values():
        if model.capability == "video":
            assert runway.video_model(model.name)["credits_per_second"] > 0
        if model.capability == "image":
            assert runway.image_credits(model.name, "16:9") > 0 and runway.image_credits(model.name, "9:16") > 0
    defaults = Settings()
    assert defaults.runway.image_model == "gen4_image" and defaults.runway.reference_image_model == "gen4_image_turbo"
    assert set(defaults.runway.video_model_choices) == {"gen4_turbo", "gen4.5", "veo3.1_fast"}
