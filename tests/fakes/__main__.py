"""`python -m tests.fakes [--llm-seconds S --image-seconds S --clip-seconds S] [demo options]`:
the local demo with the real OpenAI and Runway clients, talking to the local fakes instead of
the vendors (no keys, no network, no cost), optionally at fixed vendor latencies."""

from __future__ import annotations

import argparse
import os
import sys

from tests.fakes.vendors import Latencies, running_fakes


def main(argv: list[str]) -> int:
    from local.cli import main as cli_main

    parser = argparse.ArgumentParser(add_help=False)
    for name in ("llm", "image", "clip"):
        parser.add_argument(f"--{name}-seconds", type=float, default=0.0)
    known, demo_args = parser.parse_known_args(argv)
    latencies = Latencies(known.llm_seconds, known.image_seconds, known.clip_seconds)
    with running_fakes(latencies) as fakes:
        os.environ.update(fakes.env)
        # The fake has no usage tier unless given one (FakeRunway(concurrency=...)): it runs every
        # task at once, so the Maps may too.
        os.environ.setdefault("RUNWAY_CONCURRENCY", "10")
        print(f"Fake OpenAI at {fakes.openai.url}, fake Runway at {fakes.runway.url}")
        if latencies != Latencies():
            print(
                f"Vendor latencies: LLM {latencies.llm_seconds:g} s, image {latencies.image_seconds:g} s, "
                f"clip {latencies.clip_seconds:g} s (critical path {latencies.critical_path():g} s)"
            )
        code = cli_main(["demo", *demo_args])
        print(
            f"Requests: OpenAI {len(fakes.openai.requests)}, Runway {len(fakes.runway.requests)} "
            f"({len(fakes.runway.tasks)} tasks created)"
        )
        return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
