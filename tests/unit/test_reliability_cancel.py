"""Reliability matrix, a reject leaves nothing behind: every late write of a cancelled job's
media is refused or removed, whatever the interleaving, and the tombstone row keeps no text
the user wrote."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import new_job, replace_part
from videobot import lifecycle, storage
from videobot.data import gates, jobs
from videobot.data import segments as segment_rows
from videobot.errors import JobCancelled
from videobot.pipeline import GateId

ROUNDS = 60


class _Told:
    def __init__(self):
        self.events = []

    def send(self, job, event):
        self.events.append((job.id, event))


@pytest.fixture
def told(rt, monkeypatch):
    notifier = _Told()
    replace_part(monkeypatch, rt, "notifier", notifier)
    return notifier


def _folder(rt, job_id: str):
    return rt.storage.local_path(storage.job_prefix(job_id))


def test_a_write_after_the_cancel_writes_nothing(rt, db, told):
    job = new_job(db, "Реклама кофе")
    lifecycle.cancel_job(rt, job["id"])
    with pytest.raises(JobCancelled):
        lifecycle.save_media(rt, job["id"], f"{storage.job_prefix(job['id'])}audio/voice.mp3", b"x")
    assert not _folder(rt, job["id"]).exists()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_write_racing_the_cancel_leaves_no_folder(rt, db, told, round_):
    """The voice-over writing beside a rejected gate: released together, in every order the
    scheduler picks, the job's media folder is gone once both have returned."""
    job = new_job(db, "Реклама кофе")
    key = f"{storage.job_prefix(job['id'])}audio/voice.mp3"
    lifecycle.save_media(rt, job["id"], f"{storage.job_prefix(job['id'])}script.json", b"{}")
    barrier = threading.Barrier(2)
    outcome: list[str] = []

    def write():
        barrier.wait()
        try:
            lifecycle.save_media(rt, job["id"], key, b"\x00" * 200_000)
            outcome.append("written")
        except JobCancelled:
            outcome.append("refused")

    writer = threading.Thread(target=write)
    writer.start()
    barrier.wait()
    lifecycle.cancel_job(rt, job["id"])
    writer.join()
    assert outcome in (["written"], ["refused"])
    assert not _folder(rt, job["id"]).exists()
    assert [type(e).__name__ for _, e in told.events] == ["JobEnded"]


def test_the_tombstone_keeps_only_what_history_and_the_limits_need(rt, db, told):
    topic = "Реклама кофе с секретным рецептом"
    job = new_job(db, topic)
    jobs.update_job(db, job["id"], script_text="Сценарий", status="awaiting_script_approval")
    gates.open_gate(db, job["id"], GateId("script"), "token")
    gates.revise_gate(db, job["id"], GateId("script"), feedback="сделай смешнее", segments=None, limit=3)
    gates.open_gate(db, job["id"], GateId("script"), "token-2")
    gates.decide_gate(db, job["id"], GateId("script"), "rejected")

    lifecycle.cancel_job(rt, job["id"])

    row = db.query_one(f"SELECT * FROM {jobs.JOBS} WHERE id = %s", (job["id"],))
    assert row["status"] == "cancelled" and row["error_message"] == "rejected at the script approval"
    assert row["script_text"] is None and row["script_segments"] is None and row["audio_path"] is None
    assert "Сценарий" not in " ".join(str(v) for v in row.values())
    assert segment_rows.get_segments(db, job["id"]) == []
    assert db.query(f"SELECT * FROM {gates.GATES} WHERE job_id = %s", (job["id"],)) == []  # feedback too
    assert row["prompt"] == topic  # kept, and only it, for /history (docs/reliability.md #70)
