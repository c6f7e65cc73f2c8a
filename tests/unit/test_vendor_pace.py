"""The vendor fakes at a fixed pace (what `make demo-vendors` and `make bench-vendors` run on):
a Runway task stays RUNNING for its kind's time and then follows its plan; an OpenAI
Responses call answers after the LLM latency. Through the real clients."""

from __future__ import annotations

import time

from tests.fakes.vendors import Latencies, running_fakes
from tests.helpers import use
from videobot.providers.base import ImageRequest


def test_a_task_runs_for_its_kinds_time_then_follows_its_plan(setup, rt):
    with running_fakes(Latencies(image_seconds=0.6)) as fakes, use(setup, **fakes.env) as tuned:
        images = tuned.images
        started = time.monotonic()
        task_id = images.submit(ImageRequest(prompt="Coffee", ratio="16:9"))
        early = images.get_task(task_id)
        while (state := images.get_task(task_id)).status != "SUCCEEDED":
            assert state.status == "RUNNING" and time.monotonic() - started < 30
            time.sleep(0.05)
        assert early.status == "RUNNING" and early.progress == 0.5
        assert time.monotonic() - started >= 0.6
        assert images.fetch_output(state.output_url).startswith(b"\x89PNG")
        # The planned statuses wait for the pace: RUNNING then SUCCEEDED, none skipped.
        assert fakes.runway.tasks[task_id].history[-2:] == ["RUNNING", "SUCCEEDED"]


def test_a_cancelled_task_reports_cancelled_before_its_time(setup, rt):
    with running_fakes(Latencies(image_seconds=30)) as fakes, use(setup, **fakes.env) as tuned:
        images = tuned.images
        task_id = images.submit(ImageRequest(prompt="Coffee", ratio="16:9"))
        images.cancel(task_id)
        assert images.get_task(task_id).status == "CANCELLED"


def test_llm_calls_answer_after_the_latency(setup, rt):
    with running_fakes(Latencies(llm_seconds=0.5)) as fakes, use(setup, **fakes.env) as tuned:
        started = time.monotonic()
        script = tuned.llm.write_script("Реклама кофе", language="ru")
        assert time.monotonic() - started >= 0.5
        assert len(script.segments) == 10 and fakes.openai.calls("POST /v1/responses")


def test_the_critical_path_is_three_llm_calls_two_images_and_one_clip():
    assert Latencies(llm_seconds=2, image_seconds=6, clip_seconds=12).critical_path() == 30
