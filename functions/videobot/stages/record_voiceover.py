"""RecordVoiceover (beside the images and clips): speak each segment's narration and measure its
speech; have the parts too long for their segment rewritten shorter and spoken again; then lay
the parts on one track, each at its segment's start (FFmpeg.fit_narration).

No part is ever cut (the README's "Assembly" says the same):
 1. a part fits when its speech, sped up to at most NARRATION_MAX_TEMPO, ends inside its segment;
 2. the parts that do not fit are rewritten shorter, all of them in one LLM call, then spoken
    again and measured; at most NARRATION_REWRITE_ROUNDS rounds;
 3. a part that still does not fit is read faster, up to NARRATION_RESCUE_TEMPO;
 4. one longer still keeps its first whole words that fit at that tempo, and is spoken again.
A segment's text (video_segments_enhanced.text) is always what its narration says, stored with
the audio in one update: the subtitle burned in from it (AnimateClips, and AssembleVideo again when
the text changed after) shows exactly what is said."""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from videobot import storage, usage
from videobot.data import jobs, segments
from videobot.data.rows import Job, Segment
from videobot.errors import ContentRefused, VendorFailed
from videobot.lifecycle import save_media
from videobot.media import SpeechSpan, narration_fit, narration_room
from videobot.notify import report_progress
from videobot.observability import logger
from videobot.providers.base import LongPart, first_words
from videobot.runtime import Runtime

# A rewrite is asked for this share of the words the measured pace allows: a model's words are
# not all as long as the ones it replaces.
WORD_MARGIN = 0.9


@dataclass
class Part:
    seg: Segment
    path: Path
    span: SpeechSpan


@dataclass
class Fitting:
    """What fitting the narration took: the figures the stage returns and logs."""

    rounds: int = 0  # LLM rewrite calls
    rewritten: set[int] = field(default_factory=set)  # segments a rewrite replaced
    sped_up: set[int] = field(default_factory=set)  # read past NARRATION_MAX_TEMPO (step 3)
    shortened: set[int] = field(default_factory=set)  # kept to their first words (step 4)
    respoken: int = 0  # TTS calls beyond the first ten


def record_voiceover(rt: Runtime, job_id: str) -> dict:
    job = jobs.get_job(rt.db, job_id)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        rows = segments.get_segments(rt.db, job_id)
        parts = [_first_part(rt, job, seg, tmp, len(rows)) for seg in rows]
        fitting = Fitting()
        tempo = fit_parts(rt, job, parts, tmp, fitting)
        track = rt.ffmpeg.fit_narration(
            [p.path for p in parts],
            tmp / "voiceover.flac",
            slot=rt.settings.pipeline.segment_seconds,
            max_tempo=tempo,
            spans=[p.span for p in parts],
        )
        key = save_media(rt, job_id, storage.job_key(job_id, "voiceover.flac"), track)
        duration = rt.ffmpeg.duration(track)
    jobs.update_job(rt.db, job_id, audio_path=key, audio_duration=duration)
    figures = {
        "rounds": fitting.rounds,
        "rewritten": sorted(fitting.rewritten),
        "sped_up": sorted(fitting.sped_up),
        "shortened": sorted(fitting.shortened),
        "respoken": fitting.respoken,
    }
    if fitting.rounds:
        logger.info("narration rewritten to fit its segments", extra={"job_id": job_id, **figures})
    return {"audio_duration": duration, "narration": figures}


def _first_part(rt: Runtime, job: Job, seg: Segment, tmp: Path, total: int) -> Part:
    """The segment's narration: spoken now, or (a retried stage) the one stored."""
    if not seg.narration_path:
        part = _speak(rt, job, seg, seg.text, tmp)
        report_progress(rt.notifier, job, "voiceover", seg.segment_index + 1, total)
        return part
    path = tmp / Path(seg.narration_path).name
    rt.storage.download(seg.narration_path, path)
    return Part(seg, path, rt.ffmpeg.speech_span(path))


def _speak(rt: Runtime, job: Job, seg: Segment, text: str, tmp: Path) -> Part:
    """Speak `text` for the segment, store it with its speech's length, and make it the
    segment's text, in one row update (a retry finds either the old text or the new one, each
    with its own audio: the key names the text's digest)."""
    index = seg.segment_index
    with usage.paid_call(rt.db, rt.settings, usage.speech_call(rt.settings, job.id, index, text)) as bill:
        spoken = rt.speech.synthesize(text, language=job.language or "ru", voice=job.voice)
        bill.speech(spoken)
    key = storage.text_key(job.id, "narration", index, text, spoken.extension)
    path = tmp / Path(key).name
    path.write_bytes(spoken.audio)
    span = rt.ffmpeg.speech_span(path)
    save_media(rt, job.id, key, path)
    seg = segments.store_narration(rt.db, job.id, index, text=text, path=key, seconds=span.seconds)
    return Part(seg, path, span)


def _too_long(parts: list[Part], room: float) -> list[Part]:
    return [p for p in parts if p.span.seconds > room + 1e-6]


def _words_within(part: Part, room: float, margin: float = 1.0) -> int:
    """How many of the part's words its measured pace fits in `room` seconds."""
    words = len(part.seg.text.split())
    return max(1, min(words - 1, math.floor(words * room / part.span.seconds * margin)))


def fit_parts(rt: Runtime, job: Job, parts: list[Part], tmp: Path, fitting: Fitting) -> float:
    """Steps 2-4 above, in place on `parts`; returns the highest tempo the track may use."""
    a = rt.settings.assembly
    slot = rt.settings.pipeline.segment_seconds
    room = narration_room(slot, a.narration_max_tempo)
    long = _too_long(parts, room)
    while long and fitting.rounds < a.narration_rewrite_rounds:
        fitting.rounds += 1
        _rewrite(rt, job, parts, long, room, tmp, fitting)
        long = _too_long(parts, room)
    rescue_tempo = max(a.narration_max_tempo, a.narration_rescue_tempo)
    rescue_room = narration_room(slot, rescue_tempo)
    for part in long:
        fitting.sped_up.add(part.seg.segment_index)
        while part.span.seconds > rescue_room + 1e-6:  # step 4: ends when one word is left
            fitting.shortened.add(part.seg.segment_index)
            new = _speak(rt, job, part.seg, first_words(part.seg.text, _words_within(part, rescue_room)), tmp)
            fitting.respoken += 1
            part.seg, part.path, part.span = new.seg, new.path, new.span
            if len(part.seg.text.split()) <= 1:
                break
    if long:
        logger.warning(
            "narration still too long after its rewrites: read faster",
            extra={"job_id": job.id, "segments": [p.seg.segment_index for p in long], "rounds": fitting.rounds},
        )
    return max(
        [a.narration_max_tempo]
        + [narration_fit(p.span.seconds, slot, rescue_tempo).tempo for p in parts if p.span.seconds > room + 1e-6]
    )


def _rewrite(
    rt: Runtime, job: Job, parts: list[Part], long: list[Part], room: float, tmp: Path, fitting: Fitting
) -> None:
    """One round: every part in `long` rewritten in one LLM call, spoken again and measured. An
    unusable answer changes nothing (the next round, or the next steps, take over)."""
    asked = [
        LongPart(p.seg.segment_index, p.seg.text, p.span.seconds, room, _words_within(p, room, WORD_MARGIN))
        for p in long
    ]
    call = usage.llm_call(rt.settings, job.id, "shorten_narration", "narration")
    try:
        with usage.paid_call(rt.db, rt.settings, call) as bill:
            rewrites = rt.llm.shorten_narration(job.prompt, job.language or "ru", [p.seg.text for p in parts], asked)
            bill.llm(rewrites.usage)
    except (VendorFailed, ContentRefused) as exc:  # a bad answer or a refusal: the next steps still fit it
        logger.warning("narration rewrite unusable", extra={"job_id": job.id, "error": str(exc)})
        return
    for part in long:
        text = rewrites.parts.get(part.seg.segment_index)
        if not text or text == part.seg.text:
            continue
        new = _speak(rt, job, part.seg, text, tmp)
        fitting.respoken += 1
        fitting.rewritten.add(part.seg.segment_index)
        part.seg, part.path, part.span = new.seg, new.path, new.span
