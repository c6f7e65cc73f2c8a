"""AnimateClips (a Map over the segments): SubmitClip, then CheckClip after each wait, until
the segment's clip is stored. Each clip is then prepared for the assembly right here (sized,
captioned, faded, encoded within its share of the size cap), so the ten are prepared in
parallel and AssembleVideo only joins them."""

from __future__ import annotations

import tempfile
from pathlib import Path

from videobot import media, storage
from videobot.data import segments
from videobot.data.rows import Job, Segment
from videobot.errors import VendorFailed
from videobot.lifecycle import save_media
from videobot.pipeline import CLIP
from videobot.providers.base import ClipGenerator, ClipRequest
from videobot.runtime import Runtime
from videobot.stages.common import required
from videobot.stages.vendor_tasks import JobRow, VendorTask


def subtitled(rt: Runtime, job: Job) -> bool:
    """Whether the job's video has subtitles: the user's /settings, else SUBTITLES."""
    return rt.settings.assembly.subtitles if job.subtitles is None else job.subtitles


def caption(rt: Runtime, job: Job, seg: Segment) -> str | None:
    """The subtitle burned into the segment: its narration's text, unless subtitles are off."""
    return seg.text if subtitled(rt, job) else None


def prepared_key(rt: Runtime, job: Job, seg: Segment) -> str:
    """Where the prepared segment is stored: the key names its caption's digest, so a segment
    captioned before RecordVoiceover shortened its narration is not taken for the current one
    (AssembleVideo prepares it again)."""
    return storage.text_key(job.id, "segments", seg.segment_index, caption(rt, job, seg), "mp4")


def video_budget(settings) -> tuple[int, int]:
    """(video bit/s, bytes per segment) that keep the whole video under the size cap."""
    total = settings.pipeline.segment_count * settings.pipeline.segment_seconds
    share = (
        media.video_bitrate_for(total, settings.assembly.max_video_bytes, ceiling=10**9)
        * settings.pipeline.segment_seconds
        / 8
    )
    return media.video_bitrate_for(
        total, settings.assembly.max_video_bytes, ceiling=settings.assembly.max_video_bitrate
    ), int(share)


def prepare_segment(rt: Runtime, job: Job, seg: Segment, clip: Path, out: Path) -> Path:
    s = rt.settings
    bitrate, max_bytes = video_budget(s)
    return rt.ffmpeg.prepare_segment(
        clip,
        out,
        text=caption(rt, job, seg),
        aspect_ratio=job.aspect_ratio,
        seconds=s.pipeline.segment_seconds,
        bitrate=bitrate,
        fade=s.assembly.fade_seconds,
        max_bytes=max_bytes,
    )


class Clips(VendorTask):
    media = CLIP

    def generator(self, rt: Runtime) -> ClipGenerator:
        return rt.clips

    def request(self, rt: Runtime, job: Job, seg: Segment) -> ClipRequest:
        return ClipRequest(
            prompt=required(seg.animation_prompt, "an animation prompt"),
            ratio=job.aspect_ratio,
            image_url=rt.storage.url(required(seg.image_path, "an image")),
            duration=int(rt.settings.pipeline.segment_seconds),
            seed=seg.segment_index,
            model=job.video_model,
        )  # the user's /settings, copied when the job started

    def planned_request(self, rt: Runtime, job: Job, seg: Segment) -> ClipRequest:
        return ClipRequest(
            prompt="",
            ratio=job.aspect_ratio,
            image_url="",
            duration=int(rt.settings.pipeline.segment_seconds),
            seed=seg.segment_index,
            model=job.video_model,
        )

    def store(self, rt: Runtime, job: JobRow, seg: Segment, data: bytes) -> Segment:
        """Store the clip, and the segment made from it for the assembly (sized, captioned,
        faded), both at once."""
        index = seg.segment_index
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "clip.mp4"
            path.write_bytes(data)
            info = rt.ffmpeg.probe(path)
            if not info.has_video:
                raise VendorFailed(f"segment {index + 1}: the clip has no video stream")
            row = job()
            prepared = prepare_segment(rt, row, seg, path, Path(tmp) / "segment.mp4")
            key = storage.segment_key(job.id, CLIP.folder, index, "mp4")
            save_media(rt, job.id, {key: path, prepared_key(rt, row, seg): prepared})
        return segments.store_media(rt.db, job.id, index, CLIP, key, video_duration=info.duration)


CLIPS = Clips()
submit_clip, check_clip = CLIPS.submit, CLIPS.check  # SubmitClip, CheckClip
