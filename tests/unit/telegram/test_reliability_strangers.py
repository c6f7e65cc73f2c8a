"""Reliability matrix, strangers (issue 21, item 12): the allowlist fails closed in code, a
stranger's update is refused before anything beyond its id is stored, and the update ids
themselves are forgotten after their retention."""

from __future__ import annotations

import pytest
import reconcile_execution.app as reconcile

from tests.fakes.telegram_fixtures import TelegramUser, lambda_poster
from tests.helpers import new_job, use
from videobot.config import Settings
from videobot.data import chats, jobs, preferences, updates

REFUSAL = "🔒 Извините, этот бот работает только для приглашённых пользователей."


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


def test_an_empty_allowlist_means_nobody_and_only_a_star_opens_the_bot(setup, user):
    """M6: empty (or unset) ALLOWED_USER_IDS refuses everyone; `*` is the only way to open
    the bot. It used to mean everyone, and `make serve` was open by default."""
    for closed in ("", None, " "):
        assert not Settings(ALLOWED_USER_IDS=closed).telegram.allows(user.user_id)
    assert Settings(ALLOWED_USER_IDS="*").telegram.allows(user.user_id)
    assert not Settings(ALLOWED_USER_IDS="*").telegram.allows(None)
    assert Settings(ALLOWED_USER_IDS=str(user.user_id)).telegram.allows(user.user_id)

    with use(setup, ALLOWED_USER_IDS=""):
        assert user.say("Реклама кофе") == 200
        assert user.say("/help") == 200
    assert user.texts() == [REFUSAL, REFUSAL]
    assert jobs.active_job_for_chat(setup.rt.db, user.chat_id) is None
    with use(setup, ALLOWED_USER_IDS="*"):
        user.say("/help")
    assert user.texts()[-1].startswith("ℹ️")


def _updates_of(db, ids: list[int]) -> list[dict]:
    return db.query(f"SELECT * FROM {updates.UPDATES} WHERE update_id = ANY(%s) ORDER BY update_id", (ids,))


def test_a_strangers_update_is_refused_before_anything_beyond_its_id_is_stored(setup, db, user):
    """Every kind of update a stranger can send (a topic, a command, a voice note, an edit, a
    settings button, a decision button on someone's job): one polite line each (an answered
    callback for a button), and the only row is the update id claimed against redelivery: no
    chat, no language, no settings, no job."""
    somebody = new_job(db, "Реклама кофе")
    sent = [
        user.message_update("Реклама кофе"),
        user.message_update("/start"),
        user.message_update(None, template="telegram_message_voice"),
        user.message_update("Реклама чая", template="telegram_edited_message"),
        user.callback_update("st:ratio:9:16"),
        user.callback_update(f"a:{somebody['id']}:s:0"),
    ]
    with use(setup, ALLOWED_USER_IDS="1,2"):
        for update in sent:
            assert user.post(update) == 200
    assert user.texts() == [REFUSAL, REFUSAL, REFUSAL]  # the edit is not answered to a stranger
    assert user.callback_answers() == [REFUSAL, REFUSAL]
    rows = _updates_of(db, [u["update_id"] for u in sent])
    assert [set(r) for r in rows] == [{"update_id", "received_at", "handled_at"}] * len(sent)
    assert chats.chat_language(db, user.chat_id) is None
    assert db.query_one(f"SELECT 1 FROM {chats.CHATS} WHERE chat_id = %s", (user.chat_id,)) is None
    assert db.query_one(f"SELECT 1 FROM {preferences.TABLE} WHERE user_id = %s", (user.user_id,)) is None
    assert jobs.latest_job_for_chat(db, user.chat_id) is None
    assert jobs.get_job(db, somebody["id"]).status == "pending"


def test_handled_updates_are_purged_after_their_retention(setup, rt, db, user):
    """M7: the reconciler's sweep forgets update ids older than
    TELEGRAM_UPDATES_RETENTION_HOURS (48; Telegram gives an update up within 24 h); a recent
    one is kept, so its redelivery is still dropped."""
    old, recent = user.message_update("/help"), user.message_update("/help")
    user.post(old)
    user.post(recent)
    db.execute(
        f"UPDATE {updates.UPDATES} SET received_at = received_at - interval '49 hours' WHERE update_id = %s",
        (old["update_id"],),
    )
    result = reconcile.lambda_handler.run(rt, {"detail-type": "Scheduled Event", "source": "aws.events"})
    assert result["purged_updates"] >= 1
    assert [r["update_id"] for r in _updates_of(db, [old["update_id"], recent["update_id"]])] == [recent["update_id"]]
    user.post(recent)  # redelivered: still a duplicate
    assert len(user.texts()) == 2
