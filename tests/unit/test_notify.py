"""report_progress: the progress bar's event as the notifier receives it, and best effort (a
notifier that fails never fails the stage)."""

from __future__ import annotations

from datetime import UTC, datetime

from videobot.data.rows import Job
from videobot.notify import Progress, report_progress

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
