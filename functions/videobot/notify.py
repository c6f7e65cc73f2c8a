"""The notifier port: what the pipeline tells the user, as typed events, and the once-only
rule. The stages and the lifecycle send events through a `Notifier`; which one (Telegram,
or the log) is chosen by the composition root (videobot.runtime). Nothing here knows
Telegram."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, Protocol

from videobot.data import notifications
from videobot.data.db import Database
from videobot.data.rows import Job
from videobot.errors import VendorUnavailable
from videobot.observability import logger
from videobot.pipeline import GateStage, MediaNoun

ProgressStage = GateStage | Literal["voiceover", "assembly"]  # the Maps' gates' stages, then the two after


@dataclass(frozen=True)
class GateReady:
    """A gate is open: show the script, the images or the clips and ask. After a revision
    (`round` > 0) the gate asks again, once per round, showing the redone `segments`."""

    stage: GateStage
    round: int = 0
    segments: tuple[int, ...] = ()

    @property
    def key(self) -> str:
        return f"gate:{self.stage}" + (f":r{self.round}" if self.round else "")


@dataclass(frozen=True)
class SegmentRefused:
    """The vendor's moderation refused one segment's image or clip: it waits for a new prompt, a
    retry or a cancel, once the other segments are made. Once per segment and round. What waits
    on the user is said plainly: the segments refused now (`waiting`, this one included), or
    those made from this one (`blocked`: segment 0's image is the others' reference)."""

    kind: MediaNoun
    segment: int  # 0-based
    code: str  # the vendor's failure code, e.g. SAFETY.INPUT.TEXT
    prompt: str
    round: int = 0
    ready: int = 0  # segments of this kind made
    waiting: tuple[int, ...] = ()  # 0-based: refused and waiting for the user, this one included
    blocked: tuple[int, ...] = ()  # 0-based: waiting for this segment's media

    @property
    def key(self) -> str:
        return f"refused:{self.kind}:{self.segment}:r{self.round}"


@dataclass(frozen=True)
class Progress:
    """`done` of `total` steps of a stage, `queued` of them waiting in the vendor's queue
    (Runway's THROTTLED) just now. Best effort, and not once-only: reported as it goes."""

    stage: ProgressStage
    done: int
    total: int
    queued: int = 0

    key = None


@dataclass(frozen=True)
class VideoReady:
    video_path: str | None  # the job's final video (the notifier reads the job again)

    key = "video_ready"


@dataclass(frozen=True)
class NarrationShortened:
    """The narration of these segments (0-based) did not fit their `seconds` and was rewritten
    shorter (videobot.stages.record_voiceover): said once, after the video it is in, and of its
    subtitles only when the video has them."""

    segments: tuple[int, ...]
    seconds: float
    subtitles: bool = True

    key = "narration_shortened"


@dataclass(frozen=True)
class JobEnded:
    """The job ended without a video: rejected or cancelled, no answer at a gate, or failed."""

    outcome: Literal["cancelled", "timed_out", "failed"]
    stage: str = ""  # the gate it ended at (cancelled, timed_out)
    error_type: str = ""  # the ASL error name (failed)
    reason: str = ""

    @property
    def key(self) -> str:
        return {"cancelled": "job_cancelled", "timed_out": "approval_timed_out", "failed": "job_failed"}[self.outcome]


@dataclass(frozen=True)
class VendorQueued:
    """The vendor queued a task of this stage (Runway's THROTTLED: a tier runs 1-2 at once):
    said once per job and stage, so the user knows the wait is Runway's queue."""

    stage: GateStage  # images or videos

    @property
    def key(self) -> str:
        return f"queued:{self.stage}"


@dataclass(frozen=True)
class VoiceHeard:
    """A voice topic was transcribed (TranscribeVoiceTopic): what was heard, said once."""

    text: str

    key = "voice_heard"


Event = GateReady | SegmentRefused | Progress | NarrationShortened | VideoReady | JobEnded | VendorQueued | VoiceHeard


class Notifier(Protocol):
    def send(self, job: Job, event: Event) -> None: ...


class LogNotifier:
    """Writes each user-facing event to the structured log (no Telegram token: the local
    runner shows them)."""

    def send(self, job: Job, event: Event) -> None:
        logger.info(
            "notify",
            extra={
                "event": type(event).__name__,
                "job_id": job.id,
                "chat_id": job.chat_id,
                **{k: v for k, v in asdict(event).items() if isinstance(v, (str, int, float))},
            },
        )


class NotificationInFlight(VendorUnavailable):
    """Another sender holds this message's claim and has not confirmed it yet (within its
    lease): the stage's retry looks again, and takes the claim over if that sender died."""


def notify_once(
    db: Database,
    notifier: Notifier,
    job: Job,
    event: GateReady | SegmentRefused | NarrationShortened | VideoReady | JobEnded | VendorQueued | VoiceHeard,
) -> bool:
    """Send an event once per job and key, at least once: the key is claimed, the message sent,
    and the key recorded as sent only after Telegram confirmed it. A send that fails releases
    the claim (the retry sends it); a sender killed mid-send leaves a claim that the retry takes
    over after its lease (data.notifications): a rare duplicate, never a lost message. Returns
    False when the message was already sent; raises NotificationInFlight while another sender
    holds it (a VendorQueued notice, said by whichever poll sees the queue first, is then
    simply not said again)."""
    state = notifications.claim_state(db, job.id, event.key)
    if state == notifications.SENT:
        return False
    if state == notifications.IN_FLIGHT:
        if isinstance(event, VendorQueued):
            return False
        raise NotificationInFlight(f"{event.key} of job {job.id} is being sent")
    try:
        notifier.send(job, event)
    except Exception:  # (a killed sender runs nothing more: its claim waits out its lease)
        notifications.release(db, job.id, event.key)
        raise
    notifications.confirm(db, job.id, event.key)
    return True


def report_progress(notifier: Notifier, job: Job, stage: ProgressStage, done: int, total: int, queued: int = 0) -> None:
    """Best effort: a progress bar never fails a stage."""
    try:
        notifier.send(job, Progress(stage, done, total, queued))
    except Exception as exc:  # noqa: BLE001
        logger.warning("progress not sent", extra={"job_id": job.id, "stage": stage, "error": str(exc)})
