"""No execution meets Step Functions' 25,000-event limit.

A Standard execution fails at its 25,000th history event, after the vendors were paid. The
worst case of each execution is computed here from the ASL (each state's events by its type, its
integration and its Retry block) and the settings (config.py):

- every gate (script, images, clips) at its revision limit (MAX_GATE_REVISIONS), each round
  redoing all 10 segments, and every refusal gate of every segment at its limit too;
- every vendor task at its poll cap (MAX_POLL_ATTEMPTS at its upper bound), resubmitted as often
  as MAX_RESUBMITS allows;
- every Lambda attempt at its Retry limit (each retrier's MaxAttempts).

A loop the model does not count would hide events, so the test also checks that the only cycles
of each state machine are the ones counted: through a gate, the Map again for the images that
waited for the reference, and the child's Wait/Check poll."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from infra import asl
from tests.unit.test_pipeline import _states as flat  # every state by name, inside Maps and Parallels too
from videobot.config import SEGMENT_COUNT, Settings, settings_from_environ
from videobot.errors import ConfigurationError
from videobot.pipeline import MEDIA_KINDS, POLL_ATTEMPTS_LIMIT, ExecutionSettings, MediaKind

LIMIT = 25_000
EXECUTION = 2  # ExecutionStarted, ExecutionSucceeded (or Failed)
ITERATION = 2  # MapIterationStarted, MapIterationSucceeded
PAUSED = (".waitForTaskToken", ".sync:2", ".sync")  # these Tasks add TaskSubmitted


def visit(state: dict) -> int:
    """Events one entry into `state` adds to its execution's history, its retries included."""
    if state["Type"] == "Task":
        # TaskStateEntered, TaskScheduled, TaskStarted, [TaskSubmitted,] TaskSucceeded, TaskStateExited
        once = 6 if state["Resource"].endswith(PAUSED) else 5
        retried = sum(retrier["MaxAttempts"] for retrier in state.get("Retry", []))
        return once + 3 * retried  # each retried attempt: TaskScheduled, TaskStarted, TaskFailed
    if state["Type"] in ("Map", "Parallel"):
        return 4  # Entered, Started, Succeeded, Exited (a Map's iterations: ITERATION each)
    return 2  # Choice, Wait, Pass, Succeed, Fail: Entered, Exited


def load(path: Path) -> dict[str, dict]:
    return flat(json.loads(path.read_text(encoding="utf-8"))["States"])


def _most(field: str) -> int:
    """A pipeline setting's upper bound (its `le`)."""
    pipeline = Settings.model_fields["pipeline"].annotation.model_fields  # type: ignore[union-attr]
    return next(m.le for m in pipeline[field].metadata if hasattr(m, "le"))


def _defaults(**changes) -> Settings:
    """Today's defaults, MAX_POLL_ATTEMPTS and MAX_RESUBMITS at their upper bounds."""
    values = {"MAX_POLL_ATTEMPTS": _most("max_poll_attempts"), "MAX_RESUBMITS": _most("max_resubmits"), **changes}
    return settings_from_environ({k: str(v) for k, v in values.items()})


def vendor_task(states: dict[str, dict], kind: MediaKind, settings: Settings) -> int:
    """One segment's vendor task, worst case: its Submit, then every check it may make. A
    submission is checked at most MAX_POLL_ATTEMPTS times; each of MAX_RESUBMITS resubmissions
    starts again, after one more check where the vendor asks for a wait."""
    s, p = kind.states, settings.pipeline
    checks = (1 + p.max_resubmits) * p.max_poll_attempts + p.max_resubmits
    loop = visit(states[s.is_ready]) + visit(states[s.wait]) + visit(states[s.check])
    ends = max(visit(states[name]) for name in s.child()[4:])
    return visit(states[s.submit]) + checks * loop + visit(states[s.is_ready]) + ends


def child_worst(child: dict[str, dict], settings: Settings) -> int:
    return EXECUTION + visit(child["WhichMedia"]) + max(vendor_task(child, kind, settings) for kind in MEDIA_KINDS)


def media_worst(parent: dict[str, dict], kind: MediaKind, settings: Settings) -> int:
    """One kind's states in the parent, worst case: MAX_GATE_REVISIONS + 1 rounds at its gate,
    each redoing all ten segments, in two passes of its Map where segments wait for the
    reference (images) and one otherwise, each pass followed by the Map of refusals; and every
    segment refused MAX_GATE_REVISIONS times (the next refusal fails the job)."""
    s, n, g = kind.states, SEGMENT_COUNT, settings.pipeline.max_gate_revisions

    def v(name: str | None) -> int:
        return visit(parent[name]) if name else 0

    passes = 2 if s.blocked else 1
    make = v(s.map) + n * (ITERATION + v(s.make)) + v(s.are_ready)
    refusals = v(s.ask_refused) + n * (ITERATION + v(s.is_refused) + v(s.settled)) + v(s.waited)
    each_refusal = v(s.await_refused) + v(s.resolve_refused) + v(s.remake) + v(s.is_refused)
    gate = (g + 1) * (v(s.await_approval) + v(s.decision)) + g * v(s.redo)
    failing = n * sum(v(state) for task in (s.make, s.remake) for state in asl.failure_states(task))  # it ends
    return (g + 1) * passes * (make + refusals) + n * g * each_refusal + gate + failing


SCRIPT_GATE = ("AwaitScriptApproval", "ScriptDecision")


def parent_worst(parent: dict[str, dict], settings: Settings) -> int:
    """Each state outside the gates' loops at most once (the cycle check below holds it), the
    script gate at its limit, then each kind of media."""
    g = settings.pipeline.max_gate_revisions
    media = {name for kind in MEDIA_KINDS for name in kind.states.parent() if name}
    media |= {
        name for k in MEDIA_KINDS for task in (k.states.make, k.states.remake) for name in asl.failure_states(task)
    }
    once = set(parent) - media - {*SCRIPT_GATE, "ReviseScript"}
    script = (g + 1) * sum(visit(parent[name]) for name in SCRIPT_GATE) + g * visit(parent["ReviseScript"])
    return (
        EXECUTION
        + sum(visit(parent[name]) for name in once)
        + script
        + sum(media_worst(parent, kind, settings) for kind in MEDIA_KINDS)
    )


def _worst(settings: Settings) -> dict[str, int]:
    parent, child = load(asl.PIPELINE), load(asl.SEGMENT_MEDIA)
    return {
        "pipeline execution": parent_worst(parent, settings),
        "segment's child execution": child_worst(child, settings),
    }


def test_no_execution_meets_the_25000_event_limit_at_the_worst_case():
    settings = _defaults()
    worst = _worst(settings)
    p = settings.pipeline
    print(
        f"\nworst case, MAX_GATE_REVISIONS={p.max_gate_revisions} MAX_POLL_ATTEMPTS={p.max_poll_attempts} "
        f"MAX_RESUBMITS={p.max_resubmits}, every Retry at its limit: "
        + ", ".join(f"{name} {events:,} events" for name, events in worst.items())
    )
    assert all(events < LIMIT for events in worst.values()), worst


def test_no_setting_allowed_lets_an_execution_meet_the_limit():
    # MAX_GATE_REVISIONS at its upper bound too: no deployment can configure its way past it
    worst = _worst(_defaults(MAX_GATE_REVISIONS=_most("max_gate_revisions")))
    print(f"\nworst case with every bound at its most: {worst}")
    assert all(events < LIMIT for events in worst.values()), worst


def test_the_worst_case_counts_what_a_longer_run_adds():
    # Given one more round at each gate, or one more check of each task, the count grows: the
    # model reads the settings it claims to.
    base, parent, child = _defaults(), load(asl.PIPELINE), load(asl.SEGMENT_MEDIA)
    more_rounds = _defaults(MAX_GATE_REVISIONS=base.pipeline.max_gate_revisions + 1)
    fewer_checks = _defaults(MAX_POLL_ATTEMPTS=base.pipeline.max_poll_attempts - 1)
    assert parent_worst(parent, more_rounds) > parent_worst(parent, base)
    assert child_worst(child, fewer_checks) < child_worst(child, base)
    # and the poll loop lives in the child: no check state in the parent
    assert not {kind.states.check for kind in MEDIA_KINDS} & set(parent)


@pytest.mark.parametrize("setting", ["MAX_POLL_ATTEMPTS", "MAX_RESUBMITS", "MAX_GATE_REVISIONS"])
def test_what_the_worst_case_grows_with_has_an_upper_bound(setting):
    with pytest.raises(ConfigurationError):
        _defaults(**{setting: 10**6})
    with pytest.raises(ValidationError):  # an execution's own settings too
        ExecutionSettings.model_validate(
            {**_defaults().execution().model_dump(), "max_poll_attempts": POLL_ATTEMPTS_LIMIT + 1}
        )


def _edges(states: dict, scope: dict[str, dict]) -> dict[str, set[str]]:
    """name -> the states it may go to next, within its own scope (a Map's or a Parallel's
    inside is another scope; the Map or Parallel is one node of the outer one)."""
    edges: dict[str, set[str]] = {}
    for name, state in states.items():
        targets = {state.get("Next"), state.get("Default")}
        targets |= {c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])}
        edges[name] = {t for t in targets if t}
        for branch in state.get("Branches", []):
            edges |= _edges(branch["States"], scope)
        if "ItemProcessor" in state:
            edges |= _edges(state["ItemProcessor"]["States"], scope)
    return edges


def _cycles_avoiding(edges: dict[str, set[str]], cut: set[str]) -> list[str]:
    """States on a cycle that passes through none of `cut` (empty: every cycle is cut)."""
    graph = {a: {b for b in bs if b not in cut} for a, bs in edges.items() if a not in cut}
    on_cycle = []
    for start in graph:
        seen, stack = set(), list(graph[start])
        while stack:
            node = stack.pop()
            if node == start:
                on_cycle.append(start)
                break
            if node not in seen:
                seen.add(node)
                stack += graph.get(node, ())
    return on_cycle


def test_the_only_loops_are_the_ones_counted():
    parent_states = json.loads(asl.PIPELINE.read_text(encoding="utf-8"))["States"]
    child_states = json.loads(asl.SEGMENT_MEDIA.read_text(encoding="utf-8"))["States"]
    gates = {"AwaitScriptApproval"} | {
        n for k in MEDIA_KINDS for n in (k.states.await_approval, k.states.await_refused)
    }
    waited = {k.states.map for k in MEDIA_KINDS if k.states.blocked}  # the Map again, once, for what waited
    assert _cycles_avoiding(_edges(parent_states, parent_states), gates | waited) == []
    assert _cycles_avoiding(_edges(child_states, child_states), {k.states.check for k in MEDIA_KINDS}) == []
    # and each counted loop is there: cut nothing, and they show
    assert set(_cycles_avoiding(_edges(parent_states, parent_states), set())) >= gates | waited
