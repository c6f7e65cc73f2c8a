"""The fake OpenAI and Runway started together, with the environment that points the real
clients at them: what `make demo-vendors` and `make bench-vendors` run on.

Latencies are fixed per kind of call, as a vendor at a steady pace: every Responses call
answers after `llm_seconds`, every image task runs `image_seconds` and every clip task
`clip_seconds` before its planned statuses (RUNNING, then SUCCEEDED) go on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.fakes.fixtures import openai_vars, runway_vars
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.runway_api import FakeRunway


@dataclass(frozen=True)
class Latencies:
    llm_seconds: float = 0.0
    image_seconds: float = 0.0
    clip_seconds: float = 0.0

    def critical_path(self, llm_calls: int = 3) -> float:
        """What these latencies put on the pipeline's longest chain: the script, the image
        prompts, segment 0's image, then images 1-9 (which take it as their reference), the
        animation prompts and one clip. The voice-over runs beside the visuals."""
        return llm_calls * self.llm_seconds + 2 * self.image_seconds + self.clip_seconds


@dataclass
class Fakes:
    openai: FakeOpenAI
    runway: FakeRunway
    env: dict[str, str]


@contextmanager
def running_fakes(latencies: Latencies = Latencies()) -> Iterator[Fakes]:
    openai, runway = FakeOpenAI().start(), FakeRunway().start()
    if latencies.llm_seconds:
        openai.slow("POST /v1/responses", latencies.llm_seconds, times=10**9)
    runway.task_seconds.update(text_to_image=latencies.image_seconds, image_to_video=latencies.clip_seconds)
    try:
        yield Fakes(openai, runway, {**openai_vars(openai), **runway_vars(runway)})
    finally:
        openai.stop()
        runway.stop()
