"""AssembleVideo: join the segments AnimateClips prepared (prepared here only if one is
missing) by stream copy, under the mastered soundtrack: music, loudness, then the size cap."""

from __future__ import annotations

import tempfile
from pathlib import Path

from videobot import storage
from videobot.data import jobs, segments
from videobot.lifecycle import save_media
from videobot.notify import report_progress
from videobot.observability import logger
from videobot.pipeline import JobStatus
from videobot.runtime import Runtime
from videobot.stages.animate_clips import prepare_segment, prepared_key
from videobot.stages.common import required


def music_file(rt: Runtime, tmp: Path) -> Path | None:
    """MUSIC_PATH: a file on this machine, or else a key in the media storage (S3 on AWS)."""
    name = rt.settings.assembly.music_path
    if not name:
        return None
    if Path(name).is_file():
        return Path(name)
    return rt.storage.download(name, tmp / f"music{Path(name).suffix}")


def assemble_video(rt: Runtime, job_id: str) -> dict:
    job = jobs.update_job(rt.db, job_id, status=JobStatus.ASSEMBLING)
    report_progress(rt.notifier, job, "assembly", 0, 1)
    settings = rt.settings
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        prepared = []
        for seg in segments.get_segments(rt.db, job_id):
            index = seg.segment_index
            path = tmp / f"segment-{index:02d}.mp4"
            try:
                rt.storage.download(prepared_key(rt, job, seg), path)
            except Exception:  # noqa: BLE001 - none with this caption (its narration was shortened after)
                logger.warning(
                    "no prepared segment with this caption, preparing it now", extra={"segment_index": index}
                )
                clip = rt.storage.download(required(seg.video_path, "a clip"), tmp / f"clip-{index:02d}.mp4")
                prepare_segment(rt, job, seg, clip, path)
            prepared.append(path)
        narration = rt.storage.download(required(job.audio_path, "the narration"), tmp / "voiceover.flac")
        out = rt.ffmpeg.assemble(
            prepared,
            narration,
            tmp / "final.mp4",
            clip_seconds=settings.pipeline.segment_seconds,
            music=music_file(rt, tmp),
            music_gain_db=settings.assembly.music_gain_db,
            target_lufs=settings.assembly.target_lufs,
            true_peak=settings.assembly.true_peak_db,
            max_bytes=settings.assembly.max_video_bytes,
        )
        info = rt.ffmpeg.probe(out)
        size = out.stat().st_size
        key = save_media(rt, job_id, storage.job_key(job_id, "final.mp4"), out)
    jobs.update_job(
        rt.db,
        job_id,
        final_video_path=key,
        final_video_size_mb=round(size / 1_000_000, 2),
        final_video_duration=info.duration,
        status=JobStatus.DELIVERING,
    )
    report_progress(rt.notifier, job, "assembly", 1, 1)
    return {"final_video_path": key, "size_bytes": size, "duration": info.duration}
