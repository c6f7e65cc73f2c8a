"""Narration that must fit its segments (issue 22, item 9), shared by tests/unit/test_narration_fit.py
and bench/narration: scripts whose parts the fake LLM writes too long, the fakes' voice in-process
(each word a burst of tone as long as the word: tests/fakes/openai_api.spoken), and the words
heard in each segment of the finished track, measured on its audio."""

from __future__ import annotations

import array
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.openai_api import EN_WORDS, RU_WORDS, FakeOpenAI, spoken, word_seconds
from tests.helpers import new_job
from videobot.data import jobs, segments
from videobot.media import NARRATION_TAIL
from videobot.providers.base import Speech
from videobot.providers.openai_llm import script_problems
from videobot.stages.record_voiceover import record_voiceover

TOPICS = {
    "ru": ["Реклама кофе", "Уютная пекарня", "Горный велосипед", "Школа танцев", "Цветочный магазин"],
    "en": ["Coffee advert", "A cosy bakery", "Mountain bikes", "A dance school", "A flower shop"],
}


class WordVoice:
    """The fakes' voice, in-process (the stage test speaks some 300 parts): a WAV of word bursts."""

    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Speech:
        return Speech(audio=spoken(text, "wav"), extension="wav", characters=len(text), vendor="offline")


def _sentence(words: list[str], offset: int, count: int) -> str:
    chosen = [words[(offset + k) % len(words)] for k in range(count)]
    return " ".join(chosen).capitalize() + "."


def overlong_script(number: int, *, long_parts: bool = True) -> tuple[str, str, list[str]]:
    """(topic, language, ten parts) of script `number`: Russian for even numbers, English for
    odd; two to four parts too long for 5 s even at 1.25x (15-30 words), the rest 8-10 words
    (`long_parts=False`: those too, the control that fits as written)."""
    language = "ru" if number % 2 == 0 else "en"
    words = RU_WORDS if language == "ru" else EN_WORDS
    topic = TOPICS[language][number // 2 % len(TOPICS[language])]
    long = {(number + 3 * k) % 10: 15 + (number * 7 + k * 5) % 16 for k in range(2 + number % 3)}
    if not long_parts:
        long = {}
    parts = [_sentence(words, number * 5 + i * 3, long.get(i, 8 + (number + i) % 3)) for i in range(10)]
    return topic, language, parts


@dataclass
class Recorded:
    job_id: str
    result: dict  # what RecordVoiceover returned
    seconds: float  # what RecordVoiceover took


def disobedient_rounds(number: int) -> int:
    """How many rewrite calls of script `number` ignore their word limit: none for half the
    scripts, the first for a quarter, both (the bound) for a quarter."""
    return {1: 1, 3: 2}.get(number % 4, 0)


def record_overlong(
    rt, fake: FakeOpenAI, number: int, *, disobedient_rounds: int = 0, long_parts: bool = True, rewrites=()
) -> Recorded:
    """Script `number` written by the fake LLM (through the real client: too long twice, as a
    model that ignores the word limit), split into segments, then RecordVoiceover, its rewrites
    ignoring their word limit for the first `disobedient_rounds` calls (`rewrites`: the fake's
    answers to the first rewrite calls instead)."""
    topic, language, parts = overlong_script(number, long_parts=long_parts)
    for _ in range(2 if script_problems(parts, topic, language) else 1):  # the client re-asks once
        fake.reply_next({"language": language, "segments": parts})
    script = rt.llm.write_script(topic, language=language)
    assert script.segments == parts
    job = new_job(rt.db, topic, language=language)
    jobs.update_job(rt.db, job["id"], script_segments=script.segments, script_text="\n".join(script.segments))
    segments.create_segments(rt.db, job["id"], script.segments, rt.settings.pipeline.segment_seconds)
    fake.disobedient_rewrites = disobedient_rounds
    for reply in rewrites:
        fake.reply_next(reply)
    started = time.perf_counter()
    try:
        result = record_voiceover(rt, job["id"])
    finally:
        fake.disobedient_rewrites = 0
    return Recorded(job["id"], result, time.perf_counter() - started)


RATE = 8000
BLOCK = 40  # 5 ms
MIN_GAP = 0.04  # the pause between two words, at the fastest tempo, is over twice this


def bursts(exe: str, track: Path, threshold: int = 1000) -> list[tuple[float, float]]:
    """(start, end) in seconds of every burst of sound in the track (a word of the fakes' voice)."""
    pcm = subprocess.run(
        [exe, "-v", "error", "-i", str(track), "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    samples = array.array("h", pcm)
    found: list[tuple[float, float]] = []
    start = None
    for block in range(len(samples) // BLOCK):
        chunk = samples[block * BLOCK : (block + 1) * BLOCK]
        loud = max(chunk) > threshold or -min(chunk) > threshold
        t = block * BLOCK / RATE
        if loud and start is None:
            start = t
        elif not loud and start is not None:
            found.append((start, t))
            start = None
    if start is not None:
        found.append((start, len(samples) / RATE))
    merged: list[tuple[float, float]] = []
    for start, end in found:  # a word's onset can dip under the threshold for a block after atempo
        if merged and start - merged[-1][1] < MIN_GAP:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def heard_by_segment(exe: str, track: Path, slot: float, count: int) -> list[list[tuple[float, float]]]:
    """The bursts that start in each segment's slot."""
    by_slot: list[list[tuple[float, float]]] = [[] for _ in range(count)]
    for start, end in bursts(exe, track):
        by_slot[min(count - 1, int(start // slot))].append((start, end))
    return by_slot


def what_is_not_heard(rt, job_id: str, max_tempo: float) -> list[str]:
    """What the job's track does not say as its segments' texts (the subtitles) do, measured on
    its audio; [] when every word of each text is heard whole, at the part's one tempo (at most
    max_tempo), starting with its segment and ending a breath before the next."""
    slot = rt.settings.pipeline.segment_seconds
    track = rt.storage.local_path(jobs.get_job(rt.db, job_id).audio_path)
    rows = segments.get_segments(rt.db, job_id)
    problems = []
    for seg, heard in zip(rows, heard_by_segment(rt.ffmpeg.exe, track, slot, len(rows)), strict=True):
        where = f"segment {seg.segment_index} {seg.text!r}"
        said = [word_seconds(w) for w in seg.text.split()]
        if len(heard) != len(said):  # every word of the subtitle is heard, and nothing else
            problems.append(f"{where}: {len(heard)} words heard, {len(said)} in the text: {heard}")
            continue
        start, end = seg.segment_index * slot, (seg.segment_index + 1) * slot
        if heard[0][0] < start - 0.01 or heard[-1][1] > end - NARRATION_TAIL + 0.03:
            problems.append(f"{where}: heard from {heard[0][0]:.2f} s to {heard[-1][1]:.2f} s")
        # each word whole, as long as the voice says it at the part's one tempo (a cut last
        # word would be shorter than the rest)
        tempo = sum(said) / sum(b - a for a, b in heard)
        if tempo > max_tempo + 0.03:
            problems.append(f"{where}: read at {tempo:.2f}x")
        for (a, b), seconds in zip(heard, said, strict=True):
            if abs((b - a) - seconds / tempo) > 0.025:
                problems.append(f"{where}: a word of {seconds / tempo:.3f} s heard for {b - a:.3f} s")
    return problems
