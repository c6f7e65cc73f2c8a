"""The pipeline's vocabulary (videobot/pipeline.py) against what it names: the schema's CHECKs
(the migrations), the gate ids the rows hold, and the states of statemachine/video_pipeline.asl.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from videobot.config import Settings
from videobot.migrate import migration_files
from videobot.pipeline import (
    CLIP,
    IMAGE,
    MEDIA_KINDS,
    TERMINAL_STATUSES,
    ExecutionInput,
    ExecutionSettings,
    GateId,
    GateStage,
    JobStatus,
    RefusalKind,
    SegmentStatus,
    SegmentTaskEvent,
    media_kind,
)

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "statemachine" / "video_pipeline.asl.json").read_text(encoding="utf-8"))
CHILD = json.loads((ROOT / "statemachine" / "segment_media.asl.json").read_text(encoding="utf-8"))
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
    states, child = _states(ASL["States"]), _states(CHILD["States"])
    assert set(kind.states.parent()) <= set(states)
    assert set(kind.states.child()) <= set(child)
    assert set(states[kind.states.map]["ItemProcessor"]["States"]) >= {kind.states.make}
    refusals = states[kind.states.ask_refused]["ItemProcessor"]["States"]
    assert set(refusals) >= {kind.states.await_refused, kind.states.resolve_refused, kind.states.remake}

    def payload(name: str) -> dict:
        return states[name]["Parameters"]["Payload"]

    assert payload(kind.states.await_refused)["stage"] == kind.refusal
    assert payload(kind.states.resolve_refused)["stage"] == kind.refusal
    assert payload(kind.states.await_approval)["stage"] == kind.gate
    assert payload(kind.states.redo)["stage"] == kind.gate
    for make in (kind.states.make, kind.states.remake):  # each a child execution of this kind
        assert states[make]["Parameters"]["Input"]["kind"] == kind.noun
    assert states[kind.states.decision]["Default"] != kind.states.redo
    assert states[kind.states.redo]["Next"] == kind.states.map
    assert media_kind(kind.gate) is media_kind(kind.refusal) is media_kind(kind.noun) is kind


def test_what_the_state_machine_reads_of_an_executions_settings_is_execution_settings():
    text = json.dumps([ASL, CHILD])
    paths = set(re.findall(r"\$\.settings\.(\w+)", text))
    assert paths and paths <= set(ExecutionSettings.model_fields)
    states, child = _states(ASL["States"]), _states(CHILD["States"])
    for kind in MEDIA_KINDS:  # a vendor task's states get the whole of them: their event is parsed once
        for name in (kind.states.submit, kind.states.check):
            payload = child[name]["Parameters"]["Payload"]
            assert payload["settings.$"] == "$.settings" and not any("poll" in key for key in payload), name
        assert states[kind.states.map]["ItemSelector"]["settings.$"] == "$.settings"
        for make in (kind.states.make, kind.states.remake):  # and the child execution gets them whole
            assert states[make]["Parameters"]["Input"]["settings.$"] == "$.settings"


def test_an_executions_input_is_checked_when_it_is_made():
    settings = Settings().execution(max_poll_attempts=4)
    made = ExecutionInput(job_id="j1", settings=settings).payload()
    assert made == {"job_id": "j1", "settings": {**settings.model_dump(), "max_poll_attempts": 4}}
    assert "voice" not in made and ExecutionInput(job_id="j1", settings=settings, voice=True).payload()["voice"]
    with pytest.raises(ValidationError):
        Settings().execution(max_poll_atempts=4)  # a misspelt knob is refused, never carried
    with pytest.raises(ValidationError):
        Settings().execution(max_concurrency=0)
    event = SegmentTaskEvent.model_validate({**made, "segment_index": 3, "poll_interval_seconds": 9})
    assert (event.segment_index, event.attempt, event.settings.max_poll_attempts) == (3, 0, 4)
    assert event.settings.first_poll_seconds(IMAGE) == settings.image_first_poll_seconds
    assert event.settings.first_poll_seconds(CLIP) == settings.clip_first_poll_seconds
