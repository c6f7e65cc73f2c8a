"""The pipeline's vocabulary (videobot/pipeline.py) against what it names: the schema's CHECKs
(the migrations), the gate ids the rows hold, and the states of statemachine/video_pipeline.asl.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from videobot.migrate import migration_files
from videobot.pipeline import (
    CLIP,
    IMAGE,
    MEDIA_KINDS,
    TERMINAL_STATUSES,
    GateId,
    GateStage,
    JobStatus,
    RefusalKind,
    SegmentStatus,
    media_kind,
)

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "statemachine" / "video_pipeline.asl.json").read_text(encoding="utf-8"))
SCHEMA = "\n".join(sql for _, sql in migration_files())


def _check_values(constraint: str) -> set[str]:
    """The values of a CHECK (column IN (...)), from the last migration that defines it."""
    body = re.findall(rf"{constraint} CHECK \((.*?)\)\)", SCHEMA, re.DOTALL)[-1]
    return set(re.findall(r"'([a-z_]+)'", body))


def test_the_statuses_are_the_schemas():
    assert {s.value for s in JobStatus} == _check_values("video_jobs_status_valid")
    assert {s.value for s in SegmentStatus} == _check_values("video_segments_status_valid")
    assert set(TERMINAL_STATUSES) == {"completed", "cancelled", "failed", "timed_out"}


def test_every_gate_id_the_schema_accepts_prints_back_the_same():
    printed = [*(s.value for s in GateStage), *(f"{k.value}_{i}" for k in RefusalKind for i in range(10))]
    pattern = re.search(r"stage ~ '(.*?)'", SCHEMA).group(1)
    for text in printed:
        gate = GateId.parse(text)
        assert str(gate) == text and (text in _check_values("approval_gates_stage_valid") or re.match(pattern, text))
    assert GateId.parse("refused_clip_6") == GateId(RefusalKind.CLIP, 6) == GateId.refused(CLIP, 6)
    assert GateId.parse("script") == GateId("script") == GateId(GateStage.SCRIPT)


@pytest.mark.parametrize("text", [None, "", "scripts", "refused_clip", "refused_clip_", "refused_video_1", "images_1"])
def test_anything_else_is_no_gate(text):
    assert GateId.find(text) is None
    with pytest.raises(ValueError):
        GateId.parse(text)


def test_a_refusal_gate_and_only_one_names_its_segment():
    with pytest.raises(ValueError):
        GateId(RefusalKind.IMAGE)
    with pytest.raises(ValueError):
        GateId(GateStage.IMAGES, 3)
    assert GateId.parse("refused_image_3").media is IMAGE and GateId("videos").media is CLIP
    assert GateId("script").media is None


def test_a_gate_knows_the_jobs_status_while_it_waits_and_once_approved():
    assert [(g.awaiting, g.approved) for g in GateStage] == [
        ("awaiting_script_approval", "script_approved"),
        ("awaiting_image_approval", "images_approved"),
        ("awaiting_video_approval", "videos_approved"),
    ]


def _states(states: dict) -> dict[str, dict]:
    """Every state by name, the branches' and the Maps' included."""
    found = {}
    for name, state in states.items():
        found[name] = state
        for branch in state.get("Branches", []):
            found |= _states(branch["States"])
        if "ItemProcessor" in state:
            found |= _states(state["ItemProcessor"]["States"])
    return found


@pytest.mark.parametrize("kind", MEDIA_KINDS, ids=lambda k: k.noun)
def test_each_kind_of_media_names_the_states_of_its_map(kind):
    states = _states(ASL["States"])
    assert set(kind.states.names()) <= set(states)
    inside = states[kind.states.map]["ItemProcessor"]["States"]
    in_the_map = (kind.states.submit, kind.states.check, kind.states.await_refused, kind.states.resolve_refused)
    assert set(in_the_map) <= set(inside)

    def payload(name: str) -> dict:
        return states[name]["Parameters"]["Payload"]

    assert payload(kind.states.await_refused)["stage"] == kind.refusal
    assert payload(kind.states.resolve_refused)["stage"] == kind.refusal
    assert payload(kind.states.await_approval)["stage"] == kind.gate
    assert payload(kind.states.redo)["stage"] == kind.gate
    assert states[kind.states.decision]["Default"] != kind.states.redo
    assert states[kind.states.redo]["Next"] == kind.states.map
    assert media_kind(kind.gate) is media_kind(kind.refusal) is media_kind(kind.noun) is kind
