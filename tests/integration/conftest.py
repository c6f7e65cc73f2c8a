from __future__ import annotations

import pytest

from local.runner import LocalPipeline


@pytest.fixture(scope="session")
def pipeline(environment, settings_env, db):
    """The real ASL on moto's interpreter, handlers in-process, the session's settings and
    PostgreSQL. A test gives the handlers other settings or parts with
    `pipeline.using(pipeline.runtime_with(...))`."""
    with LocalPipeline(data_dir=environment / "runner", environ=settings_env, db=db) as p:
        yield p
