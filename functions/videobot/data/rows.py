"""Typed rows of the tables the stages and the bot read. Each is built from a `SELECT *`
row; a column the dataclass does not know is ignored, so a migration that adds one never
breaks a reader (tests/unit/test_schema.py checks the fields against the migrations).

Rows are immutable snapshots: a write returns a new one. `row["column"]` reads a column by
name too (the monitoring scripts and the tests use it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

from videobot.pipeline import IMAGE, GateId, MediaKind

R = TypeVar("R", bound="Row")
_FIELDS: dict[type, frozenset[str]] = {}


class Row:
    if TYPE_CHECKING:  # every row is a dataclass (below): what dataclasses.fields asks of it
        __dataclass_fields__: ClassVar[dict[str, Any]]

    @overload
    @classmethod
    def from_row(cls: type[R], row: dict) -> R: ...

    @overload
    @classmethod
    def from_row(cls: type[R], row: dict | None) -> R | None: ...

    @classmethod
    def from_row(cls: type[R], row: dict | None) -> R | None:
        if row is None:
            return None
        names = _FIELDS.get(cls) or _FIELDS.setdefault(cls, frozenset(f.name for f in fields(cls)))
        return cls(**{k: v for k, v in row.items() if k in names})

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)


@dataclass(frozen=True, kw_only=True)
class Job(Row):
    id: str
    user_id: int
    chat_id: int
    prompt: str
    status: str
    script_text: str | None = None
    script_approved: int = 0
    audio_path: str | None = None
    final_video_path: str | None = None
    created_at: datetime  # NOT NULL, set by the database
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    language: str | None = None
    aspect_ratio: str = "16:9"
    script_segments: Any = None
    script_generated_at: datetime | None = None
    audio_duration: float | None = None
    final_video_size_mb: float | None = None
    final_video_duration: float | None = None
    execution_arn: str | None = None
    error_message: str | None = None
    source_update_id: int | None = None
    voice: str | None = None
    subtitles: bool | None = None
    video_model: str | None = None  # the user's choice when the job started (migration 0012)
    voice_file_id: str | None = None  # a voice topic's Telegram file, transcribed by the pipeline
    end_notice: Any = None  # how the job ended, as the user is told it (JobEnded's fields; migration 0014)
    end_told_at: datetime | None = None  # when Telegram confirmed that notice

    @property
    def segment_texts(self) -> list[str]:
        """The script as its narration parts (the JSONB column)."""
        value = self.script_segments
        if isinstance(value, str):
            value = json.loads(value)
        return list(value or [])


@dataclass(frozen=True)
class Segment(Row):
    id: int
    job_id: str
    segment_index: int
    text: str
    start_time: float
    end_time: float
    image_prompt: str | None = None
    image_prompt_generated_at: datetime | None = None
    image_path: str | None = None
    image_runway_task_id: str | None = None
    image_generated_at: datetime | None = None
    animation_prompt: str | None = None
    animation_prompt_generated_at: datetime | None = None
    video_path: str | None = None
    video_runway_task_id: str | None = None
    video_duration: float | None = None
    video_generated_at: datetime | None = None
    status: str = "pending"
    narration_path: str | None = None
    narration_duration: float | None = None
    image_submissions: int = 0
    video_submissions: int = 0
    error_message: str | None = None
    updated_at: datetime | None = None
    animation_prompt_draft: str | None = None
    image_submitted_at: datetime | None = None
    video_submitted_at: datetime | None = None
    vendor_status: str | None = None  # the last poll of its unfinished task (THROTTLED: queued)

    def media(self, kind: MediaKind) -> SegmentMedia:
        """The segment's columns for one kind of media (its image, or its clip)."""
        if kind is IMAGE:
            return SegmentMedia(
                self.image_path, self.image_runway_task_id, self.image_submissions, self.image_submitted_at
            )
        return SegmentMedia(self.video_path, self.video_runway_task_id, self.video_submissions, self.video_submitted_at)

    def prompt(self, kind: MediaKind) -> str | None:
        """The prompt its image or its clip is made from."""
        return self.image_prompt if kind is IMAGE else self.animation_prompt


@dataclass(frozen=True)
class SegmentMedia:
    """A segment's image or clip: where it is stored, its vendor task, how often it was submitted."""

    path: str | None
    task_id: str | None
    submissions: int
    submitted_at: datetime | None


@dataclass(frozen=True)
class Gate(Row):
    job_id: str
    stage: str
    task_token: str
    opened_at: datetime | None = None
    decision: str | None = None
    decided_at: datetime | None = None
    revisions: int = 0
    feedback: str | None = None
    redo_segments: list[int] | None = None
    offered_feedback: str | None = None
    unknown_decision: str | None = None
    resumed_at: datetime | None = None
    ask_attempts: int = 0  # questions Telegram did not take (migration 0014)
    next_ask_at: datetime | None = None  # when the reconciler asks again; None once asked
    revised_by_update: int | None = None  # the Telegram update whose feedback made the last revision

    @property
    def id(self) -> GateId:
        return GateId.parse(self.stage)
