from __future__ import annotations

import pytest

from local.runner import LocalPipeline
from tests.function_needs import NeedsRecorder, unlisted


@pytest.fixture(scope="session")
def pipeline(environment, settings_env, db):
    """The real ASL on moto's interpreter, handlers in-process, the session's settings and
    PostgreSQL. A test gives the handlers other settings or parts with
    `pipeline.using(pipeline.runtime_with(...))`."""
    with LocalPipeline(data_dir=environment / "runner", environ=settings_env, db=db) as p:
        yield p


@pytest.fixture(scope="session")
def needs_recorder():
    """Every runtime part a handler reaches, by function (tests/function_needs.py)."""
    from videobot import runtime

    recorder = NeedsRecorder()
    original = runtime.Runtime.__getattribute__

    def recording(self, name):
        recorder.note(name)
        return original(self, name)

    runtime.Runtime.__getattribute__ = recording
    yield recorder
    runtime.Runtime.__getattribute__ = original


@pytest.fixture(autouse=True)
def each_function_reaches_only_what_the_template_gives_it(request):
    """A test that runs the pipeline also checks that no function reached a vendor (or Step
    Functions, or Lambda) its template.yaml environment and policies do not give it, and that
    no AWS call it made was denied by its role."""
    if "pipeline" not in request.fixturenames:
        yield
        return
    pipeline, recorder = request.getfixturevalue("pipeline"), request.getfixturevalue("needs_recorder")
    for name, handler in list(pipeline.endpoint.handlers.items()):
        pipeline.endpoint.handlers[name] = recorder.wrap(name, handler)
    recorder.take()
    pipeline.policy_check.checked.clear()
    yield
    assert unlisted(recorder.take()) == [], "see tests/function_needs.py and template.yaml"
    # and no AWS call a function made was one its role does not allow (local/iam.py)
    assert [(c.principal, c.action, c.resource) for c in pipeline.policy_check.denied()] == []
