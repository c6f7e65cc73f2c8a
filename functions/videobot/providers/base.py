"""One small interface per capability. Real and offline implementations live side by side;
`videobot.providers.make_*` builds one from the settings (the runtime calls them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Script:
    language: str  # "ru" or "en": the topic's language
    segments: list[str]  # exactly 10 narration parts, each about 5 s of speech
    usage: dict = field(default_factory=dict)  # LLM usage (see videobot.usage.llm_usage)


@dataclass(frozen=True)
class Prompts:
    """One prompt per segment, what the LLM's calls cost, and (for image prompts) the
    animation prompts a real LLM writes in the same call."""

    items: list[str]
    usage: dict = field(default_factory=dict)
    animation: list[str] | None = None


@dataclass(frozen=True)
class LongPart:
    """A narration part too long for its segment even at the fastest tempo allowed."""

    index: int  # the segment (0-9)
    text: str
    seconds: float  # its speech, at the voice's natural pace
    room: float  # the most speech (at that pace) its segment takes
    max_words: int  # what a rewrite must stay within, from the voice's own pace


def first_words(text: str, count: int) -> str:
    """The text kept to its first `count` whole words (at least one), ending a sentence: the
    offline editor's rewrite, and the voice-over's last resort. No word is ever cut."""
    words = text.split()
    if len(words) <= max(1, count):
        return text
    kept = " ".join(words[: max(1, count)]).rstrip(",;:-\u2013\u2014")
    return kept if kept.endswith((".", "!", "?", "\u2026")) else kept + "."


@dataclass(frozen=True)
class Rewrites:
    """Shorter narration parts by segment index, and what the call cost."""

    parts: dict[int, str]
    usage: dict = field(default_factory=dict)


class LLM(Protocol):
    """The seed's three roles: script writer, image-prompt writer, animation-prompt writer; and
    the narrator's editor, who shortens the parts too long to be spoken in their 5 s."""

    def write_script(
        self, topic: str, *, language: str | None = None, feedback: str | None = None, previous: list[str] | None = None
    ) -> Script: ...

    def write_image_prompts(self, topic: str, segments: list[str]) -> Prompts: ...

    def write_animation_prompts(self, topic: str, segments: list[str], image_prompts: list[str]) -> Prompts: ...

    def revise_image_prompts(self, topic: str, prompts: list[str], wish: str, world: list[str]) -> Prompts: ...

    def revise_animation_prompts(self, topic: str, prompts: list[str], wish: str, pictures: list[str]) -> Prompts:
        """The named clips' motion prompts rewritten with the user's wish, in one call, each for
        the picture it animates (`pictures`: their image prompts, in the same order)."""
        ...

    def shorten_narration(self, topic: str, language: str, script: list[str], parts: list[LongPart]) -> Rewrites:
        """Every part in `parts` rewritten within its max_words, in one call, the script in view."""
        ...


# Vendor task statuses (Runway's names).
PENDING, THROTTLED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "PENDING",
    "THROTTLED",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "CANCELLED",
)
UNFINISHED = (PENDING, THROTTLED, RUNNING)


@dataclass(frozen=True)
class TaskState:
    status: str
    output_url: str | None = None
    failure: str | None = None
    failure_code: str | None = None
    progress: float | None = None
    credits: float | None = None  # Runway's cost (final) or estimatedCost, when reported


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    ratio: str  # "16:9" or "9:16"
    seed: int = 0
    reference_image_url: str | None = None
    # time.monotonic() by which the create must have an answer (the Lambda's time left, less
    # what the stage needs after it); None: no bound.
    deadline: float | None = None


@dataclass(frozen=True)
class ClipRequest:
    prompt: str
    ratio: str
    image_url: str  # presigned HTTPS URL on AWS; file:// or data: locally
    duration: int = 5
    seed: int = 0
    deadline: float | None = None  # as ImageRequest.deadline
    model: str | None = None  # the video model (the user's choice); None: the setting


class ImageGenerator(Protocol):
    """A vendor's asynchronous task API: submit, then poll get_task until it ends."""

    def submit(self, request: ImageRequest) -> str: ...
    def get_task(self, task_id: str) -> TaskState: ...
    def fetch_output(self, url: str) -> bytes: ...
    def cancel(self, task_id: str) -> None:
        """Stop a running task (a job that ends early pays for nothing more)."""

    def estimate(self, request: ImageRequest) -> dict:
        """{"vendor", "model", "seconds", "credits"}: what the task will cost."""


class ClipGenerator(Protocol):
    def submit(self, request: ClipRequest) -> str: ...
    def get_task(self, task_id: str) -> TaskState: ...
    def fetch_output(self, url: str) -> bytes: ...
    def cancel(self, task_id: str) -> None: ...
    def estimate(self, request: ClipRequest) -> dict: ...


@dataclass(frozen=True)
class Speech:
    audio: bytes
    extension: str  # "wav", "mp3", ...
    characters: int
    vendor: str = "offline"
    model: str = ""
    # Realtime speech is billed by tokens: those of every attempt at this part (a part not read
    # verbatim is read again, or by the fallback voice), and the realtime model that used them.
    audio_tokens: int = 0
    text_tokens_in: int = 0
    text_tokens_out: int = 0
    realtime_model: str = ""


class SpeechSynthesizer(Protocol):
    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Speech: ...


@dataclass(frozen=True)
class Transcript:
    text: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float | None = None  # the audio's duration when the reply's usage is {type: "duration"}


@dataclass(frozen=True)
class ChatFile:
    data: bytes
    filename: str  # the file's own name where Telegram gives one (e.g. file_3.oga), else voice.ogg


class ChatFiles(Protocol):
    """Files a user sent the bot (a voice topic), fetched by the pipeline: the Telegram adapter
    implements it (videobot.telegram.files), so a stage never imports Telegram."""

    def download(self, file_id: str, *, max_bytes: int) -> ChatFile:
        """The file's bytes; VoiceNotDownloadable when it is over `max_bytes` or gone."""
        ...


class Transcriber(Protocol):
    """Voice-note topics: a recording becomes the topic's text."""

    def transcribe(self, audio: bytes, *, filename: str = "voice.ogg", language: str | None = None) -> Transcript: ...
