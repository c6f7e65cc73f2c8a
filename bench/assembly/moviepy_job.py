"""The same assembly job done the way the most popular open-source peer does it: MoviePy.
Runs in bench/.venv-moviepy (bench/requirements.txt), never in the project's environment.

    python moviepy_job.py <work dir> <out.mp4>

Reads clip-NN.mp4, texts.json and narration.m4a from the work dir; writes the MP4."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from moviepy import AudioFileClip, CompositeVideoClip, TextClip, VideoFileClip, concatenate_videoclips, vfx

FONT = Path(__file__).resolve().parents[2] / "functions" / "videobot" / "assets" / "fonts" / "DejaVuSans-Bold.ttf"


def main(work: Path, out: Path) -> None:
    texts = json.loads((work / "texts.json").read_text(encoding="utf-8"))
    segments = []
    for i, text in enumerate(texts):
        clip = VideoFileClip(str(work / f"clip-{i:02d}.mp4")).resized((1280, 720)).subclipped(0, 5)
        caption = (
            TextClip(
                font=str(FONT),
                text=text,
                font_size=46,
                color="white",
                stroke_color="black",
                stroke_width=3,
                method="caption",
                size=(1130, None),
                text_align="center",
            )
            .with_duration(5)
            .with_position(("center", 720 - 56 - 120))
        )
        segment = CompositeVideoClip([clip, caption]).with_duration(5)
        segments.append(segment.with_effects([vfx.FadeIn(0.25), vfx.FadeOut(0.25)]))
    video = concatenate_videoclips(segments).with_audio(AudioFileClip(str(work / "narration.m4a")))
    video.write_videofile(
        str(out),
        fps=24,
        codec="libx264",
        preset="veryfast",
        audio_codec="aac",
        audio_fps=48000,
        audio_bitrate="128k",
        bitrate="4000k",
        ffmpeg_params=["-pix_fmt", "yuv420p", "-movflags", "+faststart"],
        logger=None,
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
