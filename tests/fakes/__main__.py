"""`python -m tests.fakes [demo options]`: the local demo with the real OpenAI and Runway
clients, talking to the local fakes instead of the vendors (no keys, no network, no cost)."""

from __future__ import annotations

import os
import sys

from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.runway_api import FakeRunway


def main(argv: list[str]) -> int:
    from local.cli import main as cli_main

    openai, runway = FakeOpenAI().start(), FakeRunway().start()
    try:
        os.environ.update(
            {
                "OPENAI_API_KEY": "sk-test-fake-openai",
                "OPENAI_BASE_URL": f"{openai.url}/v1",
                "OPENAI_WEBSOCKET_BASE_URL": openai.realtime.url,
                "RUNWAYML_API_SECRET": "key_test_fake_runway",
                "RUNWAYML_BASE_URL": runway.url,
            }
        )
        # The fake has no usage tier unless given one (FakeRunway(concurrency=...)): it runs every
        # task at once, so the Maps may too.
        os.environ.setdefault("RUNWAY_CONCURRENCY", "10")
        print(f"Fake OpenAI at {openai.url}, fake Runway at {runway.url}")
        code = cli_main(["demo", *argv])
        print(
            f"Requests: OpenAI {len(openai.requests)}, Runway {len(runway.requests)} "
            f"({len(runway.tasks)} tasks created)"
        )
        return code
    finally:
        openai.stop()
        runway.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
