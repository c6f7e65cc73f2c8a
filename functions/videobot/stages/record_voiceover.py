"""RecordVoiceover (beside the images and clips): speak each segment's narration, store it
with its measured duration, then lay the parts on one track, each at its segment's start
(FFmpeg.fit_narration)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from videobot import storage, usage
from videobot.data import jobs, segments
from videobot.lifecycle import save_media
from videobot.notify import report_progress
from videobot.runtime import Runtime
from videobot.stages.common import required


def record_voiceover(rt: Runtime, job_id: str) -> dict:
    job = jobs.get_job(rt.db, job_id)
    settings = rt.settings
    with tempfile.TemporaryDirectory() as tmp:
        parts = []
        rows = segments.get_segments(rt.db, job_id)
        for seg in rows:
            index = seg.segment_index
            if not seg.narration_path:
                call = usage.speech_call(settings, job_id, index, seg.text)
                with usage.paid_call(rt.db, settings, call) as bill:
                    spoken = rt.speech.synthesize(seg.text, language=job.language or "ru", voice=job.voice)
                    bill.speech(spoken)
                path = Path(tmp) / f"speech-{index:02d}.{spoken.extension}"
                path.write_bytes(spoken.audio)
                key = save_media(rt, job_id, storage.segment_key(job_id, "narration", index, spoken.extension), path)
                seg = segments.update_segment(
                    rt.db, job_id, index, narration_path=key, narration_duration=rt.ffmpeg.duration(path)
                )
                report_progress(rt.notifier, job, "voiceover", index + 1, len(rows))
            stored = required(seg.narration_path, "a narration")
            path = Path(tmp) / Path(stored).name
            if not path.exists():
                rt.storage.download(stored, path)
            parts.append(path)
        track = rt.ffmpeg.fit_narration(
            parts,
            Path(tmp) / "voiceover.m4a",
            slot=settings.pipeline.segment_seconds,
            max_tempo=settings.assembly.narration_max_tempo,
        )
        key = save_media(rt, job_id, storage.job_key(job_id, "voiceover.m4a"), track)
        duration = rt.ffmpeg.duration(track)
    jobs.update_job(rt.db, job_id, audio_path=key, audio_duration=duration)
    return {"audio_duration": duration}
