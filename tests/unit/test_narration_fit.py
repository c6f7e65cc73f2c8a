"""No narration is cut (issue 22, item 9): RecordVoiceover measures each part's speech, has the
parts too long for their segment even at NARRATION_MAX_TEMPO rewritten shorter (all in one call
of the real OpenAI client to the fake LLM), speaks them again, and the subtitle text is what is
said. Measured on the track's audio: the fakes' voice makes each word a burst as long as the word,
so every word heard can be matched to a word of the segment's stored text."""

from __future__ import annotations

import dataclasses

import pytest

from tests.helpers import replace_part
from tests.narration_support import (
    WordVoice,
    disobedient_rounds,
    overlong_script,
    record_overlong,
    what_is_not_heard,
)
from videobot import media, usage
from videobot.data import jobs, segments
from videobot.stages.animate_clips import caption, prepared_key

# 4 Russian, 4 English: each way a rewrite can go (obeyed; its limit ignored once; ignored in
# both rounds, the bound) twice over; `make bench-narration` sweeps 40 (docs/benchmarks.md)
SCRIPTS = 8
SLOT = 5.0


@pytest.fixture
def voiced(rt, openai_env, monkeypatch):
    """The runtime with the real OpenAI LLM client on the fake, and the fakes' voice in-process."""
    replace_part(monkeypatch, rt, "speech", WordVoice())
    return rt


def test_no_word_is_cut_over_eight_scripts_in_russian_and_english(voiced, openai_env, db):
    settings = voiced.settings.assembly
    totals = {"long": 0, "rewritten": 0, "rounds": 0, "sped_up": 0, "shortened": 0}
    for number in range(SCRIPTS):
        _, _, parts = overlong_script(number)
        # every fourth script's rewrites ignore the word limit once, every fourth from the
        # third on in both rounds (the bound): the rescue steps take over
        disobedient = disobedient_rounds(number)
        recorded = record_overlong(voiced, openai_env, number, disobedient_rounds=disobedient)
        figures = recorded.result["narration"]
        long = [i for i, p in enumerate(parts) if len(p.split()) >= 15]
        max_tempo = settings.narration_rescue_tempo if figures["sped_up"] else settings.narration_max_tempo
        assert what_is_not_heard(voiced, recorded.job_id, max_tempo) == []

        assert 1 <= figures["rounds"] <= settings.narration_rewrite_rounds
        assert set(figures["rewritten"]) <= set(long) and figures["rewritten"]
        if disobedient == 2:
            assert figures["rounds"] == 2 and figures["sped_up"]
        if not disobedient:
            assert not figures["sped_up"]
        rows = segments.get_segments(db, recorded.job_id)
        for row, part in zip(rows, parts, strict=True):  # the parts that fitted are as written
            if row.segment_index not in figures["rewritten"] + figures["shortened"]:
                assert row.text == part
            assert row.narration_duration <= media.narration_room(SLOT, max_tempo) + 1e-6
        # each rewrite call was recorded at the LLM seam, once per round
        rewrite_calls = [r for r in usage.rows(db, recorded.job_id) if r["stage"] == "shorten_narration"]
        assert sum(r["calls"] for r in rewrite_calls) == figures["rounds"]
        totals["long"] += len(long)
        for key in ("rewritten", "sped_up", "shortened"):
            totals[key] += len(figures[key])
        totals["rounds"] += figures["rounds"]
    assert totals["rewritten"] >= totals["long"] - totals["sped_up"]  # the rest read faster
    assert totals["long"] >= 2 * SCRIPTS


def test_all_the_parts_too_long_go_in_one_call_per_round(voiced, openai_env):
    before = len(openai_env.calls("POST /v1/responses"))
    recorded = record_overlong(voiced, openai_env, 4, disobedient_rounds=1)
    calls = openai_env.calls("POST /v1/responses")[before:]
    rewrites = [c.json() for c in calls if c.json()["text"]["format"]["name"] == "narration_rewrites"]
    _, _, parts = overlong_script(4)
    long = sorted(i for i, p in enumerate(parts) if len(p.split()) >= 15)
    assert len(rewrites) == recorded.result["narration"]["rounds"] == 2
    first = rewrites[0]["text"]["format"]["schema"]["properties"]["parts"]["maxItems"]
    assert first == len(long) >= 2  # every long part, in one call
    assert all(f"Segment {i + 1} (at most" in rewrites[0]["input"] for i in long)


@pytest.mark.parametrize("answer", ["not json", {"parts": []}], ids=["malformed", "parts left out"])
def test_an_unusable_rewrite_is_a_round_and_the_next_one_fits(voiced, openai_env, answer):
    recorded = record_overlong(voiced, openai_env, 2, rewrites=[answer])
    figures = recorded.result["narration"]
    assert figures["rounds"] == 2 and figures["rewritten"] and not figures["sped_up"]
    assert what_is_not_heard(voiced, recorded.job_id, voiced.settings.assembly.narration_max_tempo) == []


def test_rewrites_unusable_to_the_bound_still_leave_every_word_whole(voiced, openai_env, db):
    recorded = record_overlong(voiced, openai_env, 2, rewrites=["not json", {"parts": []}])
    figures = recorded.result["narration"]
    # no round answered anything usable: the parts are read faster, or kept to their first
    # whole words, and the subtitle says what is said
    assert figures["rounds"] == 2 and figures["rewritten"] == [] and figures["sped_up"] and figures["shortened"]
    assert what_is_not_heard(voiced, recorded.job_id, voiced.settings.assembly.narration_rescue_tempo) == []
    stored = {r.segment_index: r.text for r in segments.get_segments(db, recorded.job_id)}
    _, _, parts = overlong_script(2)
    for index in figures["shortened"]:
        assert parts[index].startswith(stored[index][:-1]) and stored[index].endswith(".")
    assert {i for i, p in enumerate(parts) if stored[i] != p} == set(figures["shortened"])


def test_a_retried_voiceover_speaks_nothing_again_and_keeps_the_rewrites(voiced, openai_env, db, monkeypatch):
    recorded = record_overlong(voiced, openai_env, 6)
    rows = segments.get_segments(db, recorded.job_id)
    spoken = []
    replace_part(monkeypatch, voiced, "speech", _Counting(WordVoice(), spoken))
    from videobot.stages.record_voiceover import record_voiceover

    again = record_voiceover(voiced, recorded.job_id)
    assert spoken == [] and again["narration"]["rounds"] == 0
    assert [(r.text, r.narration_path) for r in segments.get_segments(db, recorded.job_id)] == [
        (r.text, r.narration_path) for r in rows
    ]


def test_the_offline_editor_shortens_too(rt, monkeypatch):
    from tests.helpers import new_job
    from videobot.stages.record_voiceover import record_voiceover

    replace_part(monkeypatch, rt, "speech", WordVoice())
    topic, language, parts = overlong_script(1)
    job = new_job(rt.db, topic, language=language)
    segments.create_segments(rt.db, job["id"], parts, SLOT)
    result = record_voiceover(rt, job["id"])  # the offline LLM: no key set
    assert result["narration"]["rewritten"] and not result["narration"]["sped_up"]
    assert what_is_not_heard(rt, job["id"], rt.settings.assembly.narration_max_tempo) == []


def test_a_segment_captioned_before_its_narration_was_shortened_is_captioned_again(rt, db):
    from tests.helpers import new_job

    job = new_job(db, "Coffee advert", language="en")
    segments.create_segments(db, job["id"], ["Fresh coffee every morning, poured by hand with care."] * 10, SLOT)
    row, seg = jobs.get_job(db, job["id"]), segments.get_segment(db, job["id"], 3)
    before = prepared_key(rt, row, seg)
    seg = segments.store_narration(db, job["id"], 3, text="Fresh coffee every morning.", path="n.wav", seconds=2.0)
    assert caption(rt, row, seg) == "Fresh coffee every morning."
    assert prepared_key(rt, row, seg) != before  # AssembleVideo will not find the old caption's file
    off = dataclasses.replace(row, subtitles=False)
    assert caption(rt, off, seg) is None and prepared_key(rt, off, seg) != prepared_key(rt, row, seg)


class _Counting:
    def __init__(self, voice, spoken: list):
        self.voice, self.spoken = voice, spoken

    def synthesize(self, text, **kwargs):
        self.spoken.append(text)
        return self.voice.synthesize(text, **kwargs)
