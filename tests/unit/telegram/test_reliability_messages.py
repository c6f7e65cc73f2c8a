"""Reliability matrix, messages that matter (issue 21, items 5-7): each is recorded as sent
only after Telegram confirmed it, so a send that never completed is made again, and the end of
a job is never hidden from its user."""

from __future__ import annotations

import pytest

from tests.fakes.telegram_fixtures import TelegramUser, lambda_poster
from tests.helpers import new_job, replace_part
from videobot import storage
from videobot.data import jobs, notifications
from videobot.errors import VendorUnavailable
from videobot.notify import NotificationInFlight
from videobot.pipeline import JobStatus
from videobot.stages.deliver_video import deliver_video

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
    """#108: "video sent" is recorded only after Telegram confirmed the upload. The killed
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
    assert deliver_video(rt, job["id"]) == {"delivered": True}
    (video,) = user.sent("sendVideo")
    assert video.files["video"]["size"] == len(MP4) * 100
    assert video.params["caption"].startswith("🎬 Ваш ролик готов!")
    assert jobs.get_job(db, job["id"]).status == JobStatus.COMPLETED
    assert notifications.was_sent(db, job["id"], "video_ready")

    deliver_video(rt, job["id"])  # a later retry finds it sent: not sent twice
    assert len(user.sent("sendVideo")) == 1


def test_a_video_whose_answer_never_came_is_sent_again_not_taken_as_sent(rt, db, user, monkeypatch):
    """#109: the upload left and Telegram's answer was lost (a read timeout after the write):
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
    """#110: ❌ Отклонить while the video is being sent. The delivery completes the job first;
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
