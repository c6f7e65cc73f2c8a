"""A per-user daily budget: once the user's jobs of the last 24 hours cost the budget, a new
topic is refused with the spend and the budget, and nothing starts."""

from __future__ import annotations

import pytest

from tests.fakes.telegram_fixtures import TelegramUser, fake_telegram, lambda_poster, telegram  # noqa: F401
from tests.helpers import record_paid, use
from tests.reliability_support import sfn  # noqa: F401
from videobot import usage
from videobot.data import jobs


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


def _paid_runway_credits(db, job_id: str, credits: float) -> None:
    record_paid(db, job_id, credits * 0.01, task_id=f"task-{job_id}", credits=credits)


def test_a_user_over_the_daily_budget_is_told_and_starts_nothing(setup, db, user, sfn):
    with use(setup, MAX_USD_PER_USER_PER_DAY="3", MAX_JOBS_PER_USER_PER_DAY="0"):
        assert user.say("Первая") == 200
        job = jobs.active_job_for_chat(db, user.chat_id)
        _paid_runway_credits(db, job["id"], 300)  # 3.00 USD
        jobs.finish_job(db, job["id"], "completed")  # its hold released: what it paid counts
        assert usage.spent(db, user.user_id).user_usd == 3.0
        assert user.say("Вторая") == 200
    texts = user.texts()
    assert texts[0].startswith("✅ Запрос принят")
    assert texts[1].startswith("⛔ За последние сутки ваши ролики стоили $3.00, а дневной бюджет — $3.00")
    assert len(sfn.named("StartExecution")) == 1

    # The spend leaves the window after 24 hours; 0 means no budget.
    db.execute(
        "UPDATE ai_video_bot.vendor_usage SET recorded_at = recorded_at - interval '25 hours' WHERE user_id = %s",
        (user.user_id,),
    )
    with use(setup, MAX_USD_PER_USER_PER_DAY="3", MAX_JOBS_PER_USER_PER_DAY="0"):
        assert user.say("Третья") == 200
    assert user.texts()[-1].startswith("✅ Запрос принят") and len(sfn.named("StartExecution")) == 2
