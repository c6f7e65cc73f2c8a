"""The vendor fakes at a fixed pace (what `make demo-vendors` and `make bench-vendors` run on):
a Runway task stays RUNNING for its kind's time and then follows its plan; an OpenAI
Responses call answers after the LLM latency. Through the real clients."""

from __future__ import annotations

import time

from tests.fakes.fixtures import vendor_env
from tests.fakes.vendors import Latencies, running_fakes
from videobot import runtime
from videobot.providers.base import ImageRequest


def test_a_task_runs_for_its_kinds_time_then_follows_its_plan():
    with running_fakes(Latencies(image_seconds=0.6)) as fakes, vendor_env(fakes.env):
        images = runtime.current().images
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


def test_a_cancelled_task_reports_cancelled_before_its_time():
    with running_fakes(Latencies(image_seconds=30)) as fakes, vendor_env(fakes.env):
        images = runtime.current().images
        task_id = images.submit(ImageRequest(prompt="Coffee", ratio="16:9"))
        images.cancel(task_id)
        assert images.get_task(task_id).status == "CANCELLED"


def test_llm_calls_answer_after_the_latency():
    with running_fakes(Latencies(llm_seconds=0.5)) as fakes, vendor_env(fakes.env):
        started = time.monotonic()
        script = runtime.current().llm.write_script("Реклама кофе", language="ru")
        assert time.monotonic() - started >= 0.5
        assert len(script.segments) == 10 and fakes.openai.calls("POST /v1/responses")


def test_the_critical_path_is_three_llm_calls_two_images_and_one_clip():
    assert Latencies(llm_seconds=2, image_seconds=6, clip_seconds=12).critical_path() == 30
