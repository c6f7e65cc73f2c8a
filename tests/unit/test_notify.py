"""report_progress: the progress bar's event as the notifier receives it, and best effort (a
notifier that fails never fails the stage); notify_once: each message once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.helpers import new_job
from videobot.data import notifications
from videobot.data.rows import Job
from videobot.notify import (
    GateReady,
    JobEnded,
    NotificationInFlight,
    Progress,
    VendorQueued,
    notify_once,
    report_progress,
)
from videobot.pipeline import GateStage

JOB = Job(id="job-1", user_id=7, chat_id=70, prompt="Реклама кофе", status="images", created_at=datetime.now(UTC))


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[Job, object]] = []

    def send(self, job: Job, event: object) -> None:
        self.sent.append((job, event))


class FailingNotifier:
    def send(self, job: Job, event: object) -> None:
        raise RuntimeError("Telegram said 429")


def test_progress_reaches_the_notifier_with_its_stage_counts_and_queue() -> None:
    notifier = RecordingNotifier()
    report_progress(notifier, JOB, "videos", 3, 10, queued=2)
    report_progress(notifier, JOB, "images", 4, 10)
    assert notifier.sent == [
        (JOB, Progress("videos", 3, 10, 2)),
        (JOB, Progress("images", 4, 10, 0)),
    ]


def test_a_progress_the_notifier_cannot_send_does_not_fail_the_stage() -> None:
    report_progress(FailingNotifier(), JOB, "videos", 1, 10)


def test_a_message_is_sent_once_and_a_claim_in_flight_is_left_to_its_sender(db) -> None:
    """notify_once's answer to its caller: True when this call sent it, False when it was sent
    already; a message another sender holds raises NotificationInFlight (the state machine
    retries), except a queue notice, which whichever poll sees the queue says, so it is simply
    not said again."""
    job = Job(**{**JOB.__dict__, "id": new_job(db)["id"]})
    notifier = RecordingNotifier()
    ready = GateReady(GateStage.IMAGES)
    assert notify_once(db, notifier, job, ready) is True
    assert notify_once(db, notifier, job, ready) is False  # sent already
    assert notifier.sent == [(job, ready)]

    queued = VendorQueued(GateStage.VIDEOS)
    ended = JobEnded("failed", error_type="MediaError")
    for event in (queued, ended):  # another sender claimed each and has not confirmed it
        assert notifications.claim(db, job.id, event.key)
    assert notify_once(db, notifier, job, queued) is False
    with pytest.raises(NotificationInFlight, match=f"job_failed of job {job.id} is being sent"):
        notify_once(db, notifier, job, ended)
    assert notifier.sent == [(job, ready)]
