"""Reliability matrix, the local runner is thread-safe: all stages share one process, so what
the handlers import lazily is imported before serving, and the Parallel branches run
concurrently many times without a "partially initialized module"."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from local.runner import execution_events

ROUNDS = 6
CHILD = textwrap.dedent("""
    import threading
    from local.lambda_endpoint import preload
    loaded = preload()
    assert {"httpx", "openai"} <= set(loaded), loaded
    barrier, errors = threading.Barrier(8), []

    def branch():
        barrier.wait()
        try:
            import httpx
            import openai
            httpx.Timeout(5)
            openai.OpenAI(api_key="x", base_url="http://127.0.0.1:9").with_options(timeout=httpx.Timeout(5))
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=branch) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(len(errors), errors[:1])
    assert not errors, errors
""")


def test_fresh_processes_use_the_sdks_from_eight_threads_at_once_after_preloading():
    for _ in range(ROUNDS):  # a fresh interpreter each round: nothing imported before preload()
        done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.startswith("0 []")


def test_the_parallel_branches_run_concurrently_many_times(pipeline):
    """Clips and voice-over side by side (ProduceClipsAndVoiceover), through to the video."""
    for _ in range(2):
        outcome = pipeline.run_job("Реклама кофе", timeout=300)
        assert outcome.execution_status == "SUCCEEDED", execution_events(outcome)
        assert outcome.job["status"] == "completed"
        assert {"AnimateClips", "RecordVoiceover"} <= set(execution_events(outcome))
