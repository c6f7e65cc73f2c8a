"""Offline vendors can take the seed's vendor times (scaled), for bench/pipeline."""

from __future__ import annotations

import time

from videobot.providers import base, offline


def test_vendor_seconds_are_deterministic_and_within_the_seed_ranges():
    for kind, (low, high) in offline.VENDOR_SECONDS.items():
        draws = [offline.vendor_seconds(kind, i) for i in range(10)]
        assert draws == [offline.vendor_seconds(kind, i) for i in range(10)]
        assert all(low <= d <= high for d in draws)
        assert len(set(draws)) > 1


def test_a_scaled_image_task_runs_for_its_vendor_time_then_succeeds(tmp_path):
    scale = 0.02  # an image takes 12-30 s at scale 1, so 0.24-0.6 s here
    gen = offline.OfflineImageGenerator(tmp_path, latency_scale=scale)
    started = time.monotonic()
    task_id = gen.submit(base.ImageRequest(prompt="Кофе", ratio="16:9", seed=3))
    assert gen.get_task(task_id).status == base.RUNNING
    while (state := gen.get_task(task_id)).status == base.RUNNING:
        assert time.monotonic() - started < 10
        time.sleep(0.02)
    assert state.status == base.SUCCEEDED
    assert time.monotonic() - started >= offline.vendor_seconds("image", 3) * scale
    assert gen.fetch_output(state.output_url).startswith(b"\x89PNG")


def test_a_scaled_llm_call_takes_its_vendor_time():
    scale = 0.01
    started = time.monotonic()
    script = offline.OfflineLLM(latency_scale=scale).write_script("Реклама кофе")
    assert time.monotonic() - started >= offline.vendor_seconds("script") * scale
    assert len(script.segments) == 10
