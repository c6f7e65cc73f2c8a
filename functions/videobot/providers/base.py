"""One small interface per capability. Real and offline implementations live side by side;
`videobot.providers.get_*` picks one from the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Script:
    language: str                 # "ru" or "en": the topic's language
    segments: list[str]           # exactly 10 narration parts, each about 5 s of speech
    usage: dict = field(default_factory=dict)   # LLM usage (see videobot.usage.llm_usage)


class Prompts(list):
    """A list of prompts (what every LLM returns for segments), which a real LLM annotates
    with its usage and, for image prompts, the animation prompts written in the same call."""

    def __init__(self, items=(), *, usage: dict | None = None, animation: list[str] | None = None):
        super().__init__(items)
        self.usage = usage or {}
        self.animation = animation


class LLM(Protocol):
    """The seed's three roles: script writer, image-prompt writer, animation-prompt writer."""

    def write_script(self, topic: str, *, language: str | None = None,
                     feedback: str | None = None, previous: list[str] | None = None) -> Script: ...

    def write_image_prompts(self, topic: str, segments: list[str]) -> list[str]: ...

    def write_animation_prompts(self, topic: str, segments: list[str], image_prompts: list[str]) -> list[str]: ...


# Vendor task statuses (Runway's names).
PENDING, THROTTLED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")
UNFINISHED = (PENDING, THROTTLED, RUNNING)


@dataclass(frozen=True)
class TaskState:
    status: str
    output_url: str | None = None
    failure: str | None = None
    failure_code: str | None = None
    progress: float | None = None
    credits: float | None = None       # Runway's cost (final) or estimatedCost, when reported


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    ratio: str                         # "16:9" or "9:16"
    seed: int = 0
    reference_image_url: str | None = None


@dataclass(frozen=True)
class ClipRequest:
    prompt: str
    ratio: str
    image_url: str                     # presigned HTTPS URL on AWS; file:// or data: locally
    duration: int = 5
    seed: int = 0


class ImageGenerator(Protocol):
    def submit(self, request: ImageRequest) -> str: ...
    def get_task(self, task_id: str) -> TaskState: ...
    def fetch_output(self, url: str) -> bytes: ...


class ClipGenerator(Protocol):
    def submit(self, request: ClipRequest) -> str: ...
    def get_task(self, task_id: str) -> TaskState: ...
    def fetch_output(self, url: str) -> bytes: ...


@dataclass(frozen=True)
class Speech:
    audio: bytes
    extension: str                     # "wav", "mp3", ...
    characters: int
    vendor: str = "offline"
    model: str = ""


class SpeechSynthesizer(Protocol):
    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Speech: ...
