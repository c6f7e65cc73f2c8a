from __future__ import annotations

import pytest

from local.runner import LocalPipeline


@pytest.fixture(scope="session")
def pipeline(environment):
    """The real ASL on moto's interpreter, handlers in-process, the session's PostgreSQL."""
    with LocalPipeline(data_dir=environment / "runner") as p:
        yield p
