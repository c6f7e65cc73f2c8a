"""Reliability matrix, messages that matter (issue 21, items 5-7): each is recorded as sent
only after Telegram confirmed it, so a send that never completed is made again, and the end of
a job is never hidden from its user."""

from __future__ import annotations

import pytest

from tests.fakes.telegram_fixtures import TelegramUser, lambda_poster
from tests.helpers import new_job, replace_part
from videobot import lifecycle, storage
from videobot.data import gates, jobs, notifications, segments
from videobot.errors import VendorUnavailable
from videobot.notify import NotificationInFlight
from videobot.pipeline import GateId, JobStatus
from videobot.stages.deliver_video import deliver_video
from videobot.stages.request_approval import request_approval

MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 128


class Killed(BaseException):
    """The Lambda's sandbox ending mid-call: no `except Exception` of ours runs after it."""


@pytest.fixture
def user(setup, rt, telegram):
    return TelegramUser(telegram, lambda_poster(lambda: setup.rt))


def _assembled_job(rt, db, user: TelegramUser) -> dict:
    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    final = rt.storage.put_bytes(storage.job_key(job["id"], "final.mp4"), MP4 * 100)
    return jobs.update_job(
        db,
        job["id"],
        status=JobStatus.DELIVERING,
        final_video_path=final,
        final_video_size_mb=0.01,
        final_video_duration=50.0,
    )


class _KilledMidUpload:
    """The first sendVideo's Lambda is killed while the upload is under way."""

    def __init__(self, notifier):
        self.notifier, self.killed = notifier, False

    def send(self, job, event):
        if not self.killed:
            self.killed = True
            raise Killed("Sandbox.Timedout")
        self.notifier.send(job, event)


def test_a_lambda_killed_mid_upload_sends_the_video_on_its_retry(rt, db, user, monkeypatch):
    """M1: "video sent" is recorded only after Telegram confirmed the upload. The killed
    attempt leaves an unconfirmed claim; a retry within its lease does not send beside a sender
    that may be alive (VendorUnavailable: the state machine retries), one after it sends."""
    job = _assembled_job(rt, db, user)
    replace_part(monkeypatch, rt, "notifier", _KilledMidUpload(rt.notifier))
    with pytest.raises(Killed):
        deliver_video(rt, job["id"])
    assert not notifications.was_sent(db, job["id"], "video_ready")
    with pytest.raises(NotificationInFlight):  # at once: its sender may still be uploading
        deliver_video(rt, job["id"])
    assert user.sent("sendVideo") == [] and jobs.get_job(db, job["id"]).status == JobStatus.DELIVERING

    monkeypatch.setattr(notifications, "CLAIM_LEASE_SECONDS", 0)  # the killed sender's lease is over
    assert deliver_video(rt, job["id"]) == {"delivered": True, "narration_shortened": []}
    (video,) = user.sent("sendVideo")
    assert video.files["video"]["size"] == len(MP4) * 100
    assert video.params["caption"].startswith("🎬 Ваш ролик готов!")
    assert jobs.get_job(db, job["id"]).status == JobStatus.COMPLETED
    assert notifications.was_sent(db, job["id"], "video_ready")

    deliver_video(rt, job["id"])  # a later retry finds it sent: not sent twice
    assert len(user.sent("sendVideo")) == 1


def test_a_video_whose_answer_never_came_is_sent_again_not_taken_as_sent(rt, db, user, monkeypatch):
    """M2: the upload left and Telegram's answer was lost (a read timeout after the write):
    the send is unconfirmed, so the stage fails for its retry, and the retry sends it again. A
    rare duplicate video is acceptable; a lost one is not."""
    from videobot.telegram import notifier as telegram_notifier

    job = _assembled_job(rt, db, user)
    real_call = telegram_notifier.call
    lost = []

    async def answer_lost_once(fn, what, settings):
        result = await real_call(fn, what, settings)
        if what == "sendVideo" and not lost:
            lost.append(result)
            return None  # what bot.call returns for a sendVideo that timed out after it left
        return result

    monkeypatch.setattr(telegram_notifier, "call", answer_lost_once)
    with pytest.raises(VendorUnavailable):
        deliver_video(rt, job["id"])
    assert not notifications.was_sent(db, job["id"], "video_ready")
    assert jobs.get_job(db, job["id"]).status == JobStatus.DELIVERING

    deliver_video(rt, job["id"])
    assert len(user.sent("sendVideo")) == 2  # the first may have arrived: a duplicate, not a loss
    assert jobs.get_job(db, job["id"]).status == JobStatus.COMPLETED
    assert notifications.was_sent(db, job["id"], "video_ready")


class _DeliveredWhileStopping:
    """Step Functions, while ❌ is being handled: the execution is in DeliverVideo, which
    completes the job between the cancel's status check and its end."""

    def __init__(self, rt):
        self.rt, self.stopped = rt, []

    def stop_execution(self, **kwargs):
        self.stopped.append(kwargs["executionArn"])
        deliver_video(self.rt, kwargs["executionArn"].rsplit(":", 1)[1])
        return {}


def test_reject_tapped_during_delivery_keeps_the_delivered_video(rt, db, user, monkeypatch):
    """M3: ❌ Отклонить while the video is being sent. The delivery completes the job first;
    the cancel then finds it completed: the video stays stored and delivered, the job stays
    completed with its path, and the user is told there is nothing to cancel, never
    "cancelled"."""
    job = _assembled_job(rt, db, user)
    jobs.update_job(db, job["id"], execution_arn=f"arn:aws:states:eu-west-1:1:execution:VideoPipeline:{job['id']}")
    sfn = _DeliveredWhileStopping(rt)
    replace_part(monkeypatch, rt, "sfn", sfn)
    assert user.say("❌ Отклонить") == 200
    assert sfn.stopped  # the cancel did reach the execution: the race is real
    ended = jobs.get_job(db, job["id"])
    assert ended.status == JobStatus.COMPLETED and ended.final_video_path == job["final_video_path"]
    assert rt.storage.get_bytes(job["final_video_path"]) == MP4 * 100
    assert len(user.sent("sendVideo")) == 1
    assert user.texts() == ["Нет активной задачи, которую можно отменить."]


# ---- item 5: a gate's question survives a Telegram outage; a job's end is told -------------


class _Outage:
    """Telegram down (every send fails as bot.call reports a persistent 5xx) until `over`."""

    def __init__(self, notifier):
        self.notifier, self.down, self.refused = notifier, True, 0

    def send(self, job, event):
        if self.down:
            self.refused += 1
            raise VendorUnavailable("Telegram sendMessage failed: 502 Bad Gateway")
        self.notifier.send(job, event)


@pytest.fixture
def outage(rt, monkeypatch):
    down = _Outage(rt.notifier)
    replace_part(monkeypatch, rt, "notifier", down)
    return down


def _due_now(db, job_id: str) -> None:
    """The question's backoff is over (as the clock would make it)."""
    db.execute(
        f"UPDATE {gates.GATES} SET next_ask_at = (now() AT TIME ZONE 'utc') - interval '1 second' WHERE job_id = %s",
        (job_id,),
    )


def _seconds_until_asked(db, job_id: str) -> float:
    row = db.query_one(
        f"SELECT EXTRACT(EPOCH FROM next_ask_at - (now() AT TIME ZONE 'utc')) AS s"
        f" FROM {gates.GATES} WHERE job_id = %s",
        (job_id,),
    )
    return float(row["s"])


def test_a_gates_question_survives_a_telegram_outage(rt, db, user, outage):
    """M4: RequestApproval stores the token and succeeds though Telegram is down (it used to
    fail after three tries, and RecordFailure failed the paid job). The reconciler's sweep asks
    again with backoff (30 s, then 60 s, ...) and, once Telegram is back, the user gets the
    question once, with its buttons."""
    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(db, job["id"], script_text="Первая фраза.", script_segments=["a"] * 10)
    assert request_approval(rt, job["id"], GateId("script"), "token-1") == {
        "stage": "script",
        "waiting": True,
        "asked": False,
    }
    gate = gates.get_gate(db, job["id"], GateId("script"))
    assert gate.task_token == "token-1" and gate.decided_at is None and gate.ask_attempts == 1
    assert 25 < _seconds_until_asked(db, job["id"]) <= 30
    assert jobs.get_job(db, job["id"]).status == JobStatus.AWAITING_SCRIPT_APPROVAL

    assert lifecycle.reconcile_messages(rt) == {"asked": 0, "told": 0}  # not due yet: nothing tried
    assert outage.refused == 1
    _due_now(db, job["id"])
    assert lifecycle.reconcile_messages(rt)["asked"] == 0  # still down: tried, and backed off further
    assert outage.refused == 2 and 55 < _seconds_until_asked(db, job["id"]) <= 60

    outage.down = False
    _due_now(db, job["id"])
    assert lifecycle.reconcile_messages(rt)["asked"] == 1
    (question,) = user.sent("sendMessage")
    assert question.params["text"].startswith("📝 Сценарий готов!")
    buttons = question.params["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == [f"a:{job['id']}:s:0", f"r:{job['id']}:s:0"]
    assert gates.get_gate(db, job["id"], GateId("script")).next_ask_at is None
    assert lifecycle.reconcile_messages(rt)["asked"] == 0 and len(user.sent("sendMessage")) == 1


def test_a_question_is_not_asked_again_once_its_gate_timed_out(rt, db, user, outage):
    job = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    jobs.update_job(db, job["id"], script_text="Первая фраза.")
    request_approval(rt, job["id"], GateId("script"), "token-1")
    outage.down = False
    lifecycle.record_approval_timeout(rt, job["id"])
    _due_now(db, job["id"])
    assert lifecycle.reconcile_messages(rt)["asked"] == 0
    assert [t.split(" ")[0] for t in user.texts()] == ["⌛"]


def test_a_jobs_end_is_told_by_the_reconciler_when_telegram_was_down(rt, db, user, outage, monkeypatch):
    """M5: RecordFailure during an outage records the end with its notice, untold (it used to
    raise, and when its retries failed the reconciler skipped the job as already terminal: the
    user never heard). The execution's end event, or else the sweep, tells the user once."""
    first = new_job(db, "Реклама кофе", user_id=user.user_id, chat_id=user.chat_id)
    result = lifecycle.record_failure(rt, first["id"], {"Error": "MediaError", "Cause": "ffmpeg"})
    assert result["failed"]
    ended = jobs.get_job(db, first["id"])
    assert ended.status == JobStatus.FAILED and ended.end_told_at is None
    assert ended.end_notice["outcome"] == "failed" and ended.end_notice["error_type"] == "MediaError"

    detail = {"name": first["id"], "status": "FAILED", "error": "States.Runtime"}
    assert lifecycle.reconcile_execution(rt, detail)["told"] is False  # still down
    outage.down = False
    assert lifecycle.reconcile_execution(rt, detail)["told"] is True
    assert user.texts() == [f"⚠️ Не удалось сделать ролик{user.texts()[0].split('ролик', 1)[1]}"]
    assert jobs.get_job(db, first["id"]).end_told_at is not None

    # the sweep, for a job whose execution event never comes (it ended Succeeded)
    outage.down = True
    second = new_job(db, "Реклама чая", user_id=user.user_id, chat_id=user.chat_id)
    lifecycle.record_approval_timeout(rt, second["id"])
    outage.down = False
    assert lifecycle.reconcile_messages(rt)["told"] == 0  # within the grace its own Lambda has
    monkeypatch.setattr(lifecycle, "END_NOTICE_GRACE_SECONDS", 0)
    assert lifecycle.reconcile_messages(rt)["told"] == 1
    assert lifecycle.reconcile_messages(rt)["told"] == 0
    assert [t.split(" ")[0] for t in user.texts()] == ["⚠️", "⌛"]


def test_a_tap_racing_the_gates_timeout_still_names_the_stage(rt, db, user, monkeypatch):
    """M15 (item 10): ✅ tapped as the image gate times out: the tap decides the gate first
    (its SendTaskSuccess then meets TaskTimedOut), and RecordApprovalTimeout finds no open
    gate. The timeout message still names the stage (it used to say «?», then nothing)."""
    from tests.helpers import job_at_gate

    job = job_at_gate(db, user, "images")
    assert gates.decide_gate(db, job["id"], GateId("images"), "approved") is not None  # the tap, first
    assert lifecycle.record_approval_timeout(rt, job["id"]) == {"timed_out": True, "stage": "images"}
    (told,) = user.texts()
    assert told.startswith("⌛ Вы не ответили вовремя на этапе изображений")
    assert jobs.get_job(db, job["id"]).status == JobStatus.TIMED_OUT


def _shortened_job(rt, db, user: TelegramUser, **fields) -> dict:
    """An assembled job whose narration of segments 4 and 7 RecordVoiceover rewrote shorter."""
    job = _assembled_job(rt, db, user)
    script = [f"Часть {i} сценария, как её утвердили." for i in range(10)]
    jobs.update_job(db, job["id"], script_segments=script, **fields)
    segments.create_segments(db, job["id"], script, 5.0)
    for index in (3, 6):  # what RecordVoiceover stores for a part it had rewritten shorter
        segments.update_segment(db, job["id"], index, text=f"Часть {index}.")
    return job


def test_narration_rewritten_shorter_is_said_once_after_the_video_even_when_delivery_is_retried(rt, db, user):
    """Issue 22, item 9's gap: the video no longer says the approved script word for word where
    RecordVoiceover rewrote a part shorter. The user is told which segments, once (its own
    notification key), after the video; a DeliverVideo retried after the video failed says it
    once, and a later retry does not say it again."""
    job = _shortened_job(rt, db, user)
    user.fake.fail_next("sendVideo", 429, retry_after=60)  # longer than the bot waits: the stage fails
    with pytest.raises(VendorUnavailable):
        deliver_video(rt, job["id"])
    assert [t for t in user.texts() if t.startswith("✂️")] == []  # nothing before the video
    assert deliver_video(rt, job["id"]) == {"delivered": True, "narration_shortened": [3, 6]}
    deliver_video(rt, job["id"])  # a later retry: nothing again

    notices = [t for t in user.texts() if t.startswith("✂️")]
    assert notices == [
        "✂️ Тексты озвучки сегментов 4, 7 не укладывались в их 5 сек., поэтому я переписал их короче. "
        "В ролике и в субтитрах — сокращённый текст."
    ]
    calls = user.fake.calls
    [notice] = [c for c in calls if c.method == "sendMessage" and c.params["text"].startswith("✂️")]
    [video] = [c for c in calls if c.method == "sendVideo" and c.error_code is None]
    assert calls.index(video) < calls.index(notice)


def test_a_narration_notice_that_cannot_be_sent_never_holds_the_video_back(rt, db, user):
    """The notice fails every time it is tried (429 past the bot's wait): the video is still
    delivered, once, and the job completed; the notice is logged, not raised. It keeps its own
    key: once Telegram takes it (a DeliverVideo run again), it is said once and never again."""
    job = _shortened_job(rt, db, user)
    for _ in range(2):
        user.fake.fail_next("sendMessage", 429, retry_after=60)
        assert deliver_video(rt, job["id"]) == {"delivered": True, "narration_shortened": [3, 6]}
        assert len(user.sent("sendVideo")) == 1 and jobs.get_job(db, job["id"]).status == JobStatus.COMPLETED
        assert [t for t in user.texts() if t.startswith("✂️")] == []
    assert not notifications.was_sent(db, job["id"], "narration_shortened")
    assert len(user.fake.calls_to("sendMessage", failed=True)) == 2

    deliver_video(rt, job["id"])
    deliver_video(rt, job["id"])
    assert len([t for t in user.texts() if t.startswith("✂️")]) == 1 and len(user.sent("sendVideo")) == 1


@pytest.mark.parametrize(
    "lang, said",
    [
        ("ru", "поэтому я переписал их короче. В ролике звучит сокращённый текст."),
        ("en", "so I rewrote them shorter. The video says the shorter text."),
    ],
)
def test_a_video_without_subtitles_gets_a_notice_that_does_not_mention_them(rt, db, user, lang, said):
    from videobot.data import chats

    job = _shortened_job(rt, db, user, subtitles=False)  # the user's /settings turned them off
    chats.remember_chat(db, user.chat_id, user.user_id, lang)
    deliver_video(rt, job["id"])
    [notice] = [t for t in user.texts() if t.startswith("✂️")]
    assert notice.endswith(said) and "субтитр" not in notice and "subtitle" not in notice


def test_a_video_said_as_approved_comes_with_no_narration_notice(rt, db, user):
    job = _assembled_job(rt, db, user)
    script = [f"Part {i}." for i in range(10)]
    jobs.update_job(db, job["id"], script_segments=script)
    segments.create_segments(db, job["id"], script, 5.0)
    assert deliver_video(rt, job["id"])["narration_shortened"] == []
    assert user.texts() == [] and len(user.sent("sendVideo")) == 1


def test_the_narration_notice_reads_right_for_one_segment_and_several_in_both_languages():
    from videobot.notify import NarrationShortened
    from videobot.telegram.notifier import _notice_text

    assert _notice_text("ru", NarrationShortened((3,), 5.0)).startswith(
        "✂️ Текст озвучки сегмента 4 не укладывался в его 5 сек., поэтому я переписал его короче."
    )
    assert _notice_text("en", NarrationShortened((3,), 5.0)) == (
        "✂️ The narration of segment 4 did not fit its 5 s, so I rewrote it shorter. "
        "The video and its subtitles say the shorter text."
    )
    assert _notice_text("en", NarrationShortened((1, 6), 5.0)).startswith(
        "✂️ The narration of segments 2, 7 did not fit their 5 s, so I rewrote them shorter."
    )
