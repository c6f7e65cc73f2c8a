"""The pipeline's vocabulary, in one place: the job's statuses, the gates it waits at, the
segment's statuses, the two kinds of media a segment gets (its image and its clip) and the id
of a gate. The data layer, the stages, the notifier and the bot all speak it; it imports
nothing of the product.

A clip has one name here, `CLIP`, which knows its other names: its columns' prefix (`video_`),
its storage folder (`clips`), its gate (`videos`), its refusal gate (`refused_clip_<i>`) and
the states of its Map in statemachine/video_pipeline.asl.json (`AnimateClips`, ...). The
values are the strings the database rows, the state machine and the callback data already
hold, so no row changes.

It also holds what an execution carries: its input and its settings (ExecutionSettings), and
the event a vendor task's state is sent."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class JobStatus(StrEnum):
    """A job's status, in pipeline order (README "Job statuses"; the schema's CHECK)."""

    PENDING = "pending"
    GENERATING_SCRIPT = "generating_script"
    AWAITING_SCRIPT_APPROVAL = "awaiting_script_approval"
    SCRIPT_APPROVED = "script_approved"
    GENERATING_IMAGES = "generating_images"
    AWAITING_IMAGE_APPROVAL = "awaiting_image_approval"
    IMAGES_APPROVED = "images_approved"
    GENERATING_VIDEOS = "generating_videos"
    AWAITING_VIDEO_APPROVAL = "awaiting_video_approval"
    VIDEOS_APPROVED = "videos_approved"
    ASSEMBLING = "assembling"
    DELIVERING = "delivering"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


# A job in one of these never changes again.
TERMINAL_STATUSES = (JobStatus.COMPLETED, JobStatus.CANCELLED, JobStatus.FAILED, JobStatus.TIMED_OUT)
# Ended without a video: a stage still running for it writes nothing (JobCancelled).
ENDED_EARLY = (JobStatus.CANCELLED, JobStatus.FAILED, JobStatus.TIMED_OUT)


class GateStage(StrEnum):
    """The three approvals: the script, the ten images, the ten clips."""

    SCRIPT = "script"
    IMAGES = "images"
    VIDEOS = "videos"

    @property
    def awaiting(self) -> JobStatus:
        """The job's status while this gate waits for the user."""
        return _AWAITING[self]

    @property
    def approved(self) -> JobStatus:
        """The job's status once this gate is approved."""
        return _APPROVED[self]


_AWAITING = {
    GateStage.SCRIPT: JobStatus.AWAITING_SCRIPT_APPROVAL,
    GateStage.IMAGES: JobStatus.AWAITING_IMAGE_APPROVAL,
    GateStage.VIDEOS: JobStatus.AWAITING_VIDEO_APPROVAL,
}
_APPROVED = {
    GateStage.SCRIPT: JobStatus.SCRIPT_APPROVED,
    GateStage.IMAGES: JobStatus.IMAGES_APPROVED,
    GateStage.VIDEOS: JobStatus.VIDEOS_APPROVED,
}


class RefusalKind(StrEnum):
    """A segment the vendor's moderation refused waits at a gate of its own, one per segment."""

    IMAGE = "refused_image"
    CLIP = "refused_clip"


class SegmentStatus(StrEnum):
    """A segment's status (the schema's CHECK)."""

    PENDING = "pending"
    IMAGE_PROMPT_READY = "image_prompt_ready"
    IMAGE_READY = "image_ready"
    ANIMATION_PROMPT_READY = "animation_prompt_ready"
    VIDEO_READY = "video_ready"
    FAILED = "failed"


@dataclass(frozen=True)
class MapStates:
    """The states of one kind of media (infra/asl.py writes them from these names).

    In statemachine/video_pipeline.asl.json: its Map (`map`), each iteration one child
    execution (`make`) of statemachine/segment_media.asl.json; a Choice on what the Map made
    (`are_ready`); the refused segments asked about in a Map of their own (`ask_refused`:
    `is_refused`, `await_refused`, `resolve_refused`, `remake`, `settled`), so a pause holds
    none of the vendor Map's slots; the Map again for the segments that `waited` for a refused
    one (images: segment 0 is the others' reference); then its gate and what follows it.

    In statemachine/segment_media.asl.json: one segment's vendor task, `submit`, then `check`
    after each `wait` until `is_ready` says it is `ready`, `refused`, or (`blocked`, images
    only) waiting for another segment's refused picture. Its events count in the child's own
    history, so no execution nears Step Functions' 25,000 events (tests/unit/test_event_budget.py)."""

    map: str
    make: str
    are_ready: str
    ask_refused: str
    is_refused: str
    await_refused: str
    resolve_refused: str
    remake: str
    settled: str
    await_approval: str
    decision: str
    redo: str
    submit: str
    is_ready: str
    wait: str
    check: str
    ready: str
    refused: str
    blocked: str | None = None  # a kind made from another segment's media (images: segment 0's)
    waited: str | None = None  # after the refusals, a Choice: were some blocked? (the Map again)

    def parent(self) -> tuple[str, ...]:
        """The names in statemachine/video_pipeline.asl.json."""
        return (
            self.map,
            self.make,
            self.are_ready,
            self.ask_refused,
            self.is_refused,
            self.await_refused,
            self.resolve_refused,
            self.remake,
            self.settled,
            self.await_approval,
            self.decision,
            self.redo,
        ) + ((self.waited,) if self.waited else ())

    def child(self) -> tuple[str, ...]:
        """The names in statemachine/segment_media.asl.json."""
        ends = (self.ready, self.refused) + ((self.blocked,) if self.blocked else ())
        return (self.submit, self.is_ready, self.wait, self.check, *ends)


MediaNoun = Literal["image", "clip"]


@dataclass(frozen=True)
class MediaKind:
    """One kind of media a segment gets from a vendor task: its image, then its clip."""

    noun: MediaNoun  # what the user is told about
    column: str  # the segment columns' prefix (<column>_path, <column>_runway_task_id, ...), and the
    # kind in logs, metrics and errors: "image", "video"
    folder: str  # the storage folder: jobs/<job>/<folder>/<segment>.<ext>
    usage_stage: str  # the vendor_usage stage of its tasks
    gate: GateStage  # the approval it leads to
    refusal: RefusalKind  # the gate a refused segment waits at
    prompt_column: str  # the segment's prompt for it
    generating: JobStatus  # the job's status while they are made
    prompt_ready: SegmentStatus  # a segment's status before it is made (and after a redo)
    ready: SegmentStatus  # a segment's status once it is stored
    states: MapStates


IMAGE = MediaKind(
    noun="image",
    column="image",
    folder="images",
    usage_stage="generate_images",
    gate=GateStage.IMAGES,
    refusal=RefusalKind.IMAGE,
    prompt_column="image_prompt",
    generating=JobStatus.GENERATING_IMAGES,
    prompt_ready=SegmentStatus.IMAGE_PROMPT_READY,
    ready=SegmentStatus.IMAGE_READY,
    states=MapStates(
        map="GenerateImages",
        make="MakeImage",
        are_ready="AreImagesReady",
        ask_refused="AskAboutRefusedImages",
        is_refused="IsImageRefused",
        await_refused="AwaitRefusedImage",
        resolve_refused="ResolveRefusedImage",
        remake="MakeRefusedImageAgain",
        settled="ImageSettled",
        await_approval="AwaitImageApproval",
        decision="ImagesDecision",
        redo="RedoImages",
        submit="SubmitImage",
        is_ready="IsImageReady",
        wait="WaitForImage",
        check="CheckImage",
        ready="ImageReady",
        refused="ImageRefused",
        blocked="ImageWaitsForReference",
        waited="DidImagesWaitForReference",
    ),
)
CLIP = MediaKind(
    noun="clip",
    column="video",
    folder="clips",
    usage_stage="generate_clips",
    gate=GateStage.VIDEOS,
    refusal=RefusalKind.CLIP,
    prompt_column="animation_prompt",
    generating=JobStatus.GENERATING_VIDEOS,
    prompt_ready=SegmentStatus.ANIMATION_PROMPT_READY,
    ready=SegmentStatus.VIDEO_READY,
    states=MapStates(
        map="AnimateClips",
        make="AnimateClip",
        are_ready="AreClipsReady",
        ask_refused="AskAboutRefusedClips",
        is_refused="IsClipRefused",
        await_refused="AwaitRefusedClip",
        resolve_refused="ResolveRefusedClip",
        remake="AnimateRefusedClipAgain",
        settled="ClipSettled",
        await_approval="AwaitVideoApproval",
        decision="ClipsDecision",
        redo="RedoClips",
        submit="SubmitClip",
        is_ready="IsClipReady",
        wait="WaitForClip",
        check="CheckClip",
        ready="ClipReady",
        refused="ClipRefused",
    ),
)
MEDIA_KINDS = (IMAGE, CLIP)
# Segment 0's image is the reference the others are made from (Runway referenceImages): until it
# exists they are "blocked", and a refused one holds them all.
REFERENCE_SEGMENT = 0


def media_kind(of: GateStage | RefusalKind | str) -> MediaKind:
    """The kind of media a gate (images, videos) or a refusal gate is about."""
    for kind in MEDIA_KINDS:
        if of in (kind.gate, kind.refusal, kind.noun):
            return kind
    raise ValueError(f"{of!r} is about no kind of media")


_GATE_VALUES = frozenset(s.value for s in GateStage)
_REFUSAL_VALUES = frozenset(k.value for k in RefusalKind)


@dataclass(frozen=True)
class GateId:
    """A gate of a job: one of the three approvals, or a refused segment's own gate. Printed as
    the approval_gates row's `stage` ("script", "images", "videos", "refused_clip_6": the
    refusal kind and the 0-based segment)."""

    stage: GateStage | RefusalKind
    segment: int | None = None

    def __post_init__(self) -> None:
        given: object = self.stage  # a plain string too ("script", a row's column): its member
        if not isinstance(given, GateStage | RefusalKind):
            stage = str(given)
            object.__setattr__(self, "stage", GateStage(stage) if stage in _GATE_VALUES else RefusalKind(stage))
        if isinstance(self.stage, RefusalKind) != (self.segment is not None):
            raise ValueError(f"a refusal gate, and only one, names a segment: {self.stage!r}, {self.segment!r}")
        if self.segment is not None and not 0 <= self.segment <= 99:
            raise ValueError(f"segment {self.segment} is out of range")

    def __str__(self) -> str:
        return self.stage.value if self.segment is None else f"{self.stage.value}_{self.segment}"

    @classmethod
    def parse(cls, text: str | None) -> GateId:
        """A GateId from its printed form; ValueError for anything else."""
        found = cls.find(text)
        if found is None:
            raise ValueError(f"{text!r} is not a gate")
        return found

    @classmethod
    def find(cls, text: str | None) -> GateId | None:
        """A GateId from its printed form, or None for anything else (a stale button's data)."""
        text = text or ""
        if text in _GATE_VALUES:
            return cls(GateStage(text))
        kind, _, index = text.rpartition("_")
        if kind in _REFUSAL_VALUES and index.isdigit() and len(index) <= 2:
            return cls(RefusalKind(kind), int(index))
        return None

    @classmethod
    def refused(cls, kind: MediaKind, segment: int) -> GateId:
        return cls(kind.refusal, int(segment))

    @property
    def is_refusal(self) -> bool:
        return isinstance(self.stage, RefusalKind)

    @property
    def media(self) -> MediaKind | None:
        """The kind of media this gate is about (None at the script)."""
        return None if self.stage == GateStage.SCRIPT else media_kind(self.stage)


# ---- what an execution carries -------------------------------------------------------------
#
# Each execution's input holds its settings (ExecutionSettings), built once when it starts
# (videobot.control.start_job) from the deployment's defaults; the ASL reads them by path
# (TimeoutSecondsPath, MaxConcurrencyPath) and hands them to the states that need them, and a
# stage reads them only from its event, parsed once by its handler.

Seconds = Annotated[int, Field(ge=0)]
# The most checks of one vendor task (MAX_POLL_ATTEMPTS): with every check at its Retry limit, a
# segment's child execution then stays under Step Functions' 25,000 events
# (tests/unit/test_event_budget.py).
POLL_ATTEMPTS_LIMIT = 150


class ExecutionSettings(BaseModel):
    """The knobs of one execution: how long a gate waits, how the vendor tasks are polled, how
    many segments a Map makes at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    approval_timeout_seconds: Annotated[int, Field(ge=1)]
    poll_interval_seconds: Seconds
    image_first_poll_seconds: Seconds
    clip_first_poll_seconds: Seconds
    max_poll_attempts: Annotated[int, Field(ge=1, le=POLL_ATTEMPTS_LIMIT)]
    max_concurrency: Annotated[int, Field(ge=1, le=40)]

    def first_poll_seconds(self, kind: MediaKind) -> int:
        """The most the first check of this kind's task may wait (its model's learned pace)."""
        return self.image_first_poll_seconds if kind is IMAGE else self.clip_first_poll_seconds


class ExecutionInput(BaseModel):
    """An execution's input: ids and numbers only. `voice` sends a voice topic through
    TranscribeVoiceTopic first (the ASL's TopicSource checks that it is present)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    settings: ExecutionSettings
    voice: Literal[True] | None = None

    def payload(self) -> dict:
        return self.model_dump(exclude_none=True)


class SegmentTaskEvent(BaseModel):
    """What SubmitImage/CheckImage and SubmitClip/CheckClip are sent: one segment's task, the
    check's count, and the execution's settings."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    job_id: str
    segment_index: Annotated[int, Field(ge=0)]
    attempt: Annotated[int, Field(ge=0)] = 0
    settings: ExecutionSettings
