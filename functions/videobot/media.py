"""FFmpeg: finding the binary, probing files, and the few media operations the stages need.

On AWS the binary comes from layers/ffmpeg at /opt/bin/ffmpeg; locally from imageio-ffmpeg.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from videobot.config import get_settings
from videobot.errors import MediaError

LAYER_FFMPEG = "/opt/bin/ffmpeg"
TELEGRAM_MAX_BYTES = 50 * 1000 * 1000  # Telegram's sendVideo upload cap (50 MB)
AUDIO_BITRATE = 128_000
FPS = 24
SIZES = {"16:9": (1280, 720), "9:16": (720, 1280)}


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    configured = get_settings().ffmpeg_path
    if configured:
        return configured
    if os.access(LAYER_FFMPEG, os.X_OK):
        return LAYER_FFMPEG
    try:
        import imageio_ffmpeg  # local runner and tests only
    except ImportError:
        found = shutil.which("ffmpeg")
        if found:
            return found
        raise MediaError("ffmpeg not found: set FFMPEG_PATH or attach the ffmpeg layer") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: list[str], *, timeout: float = 600) -> str:
    """Run ffmpeg; return its stderr (where it reports). Raise MediaError on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise MediaError(f"ffmpeg timed out after {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise MediaError(f"ffmpeg failed ({proc.returncode}): {tail}")
    return proc.stderr


@dataclass(frozen=True)
class Probe:
    duration: float
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    pix_fmt: str | None = None


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+)[^,]*(?:\([^)]*\))?, (\w+)[^,]*?(?:\([^)]*\))?, (\d+)x(\d+)")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (\w+)[^,]*, (\d+) Hz")


def probe(path: str | Path) -> Probe:
    """What a media file holds, read from `ffmpeg -i` (the imageio-ffmpeg wheel has no ffprobe)."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
                          capture_output=True, text=True, timeout=60)
    err = proc.stderr
    m = _DURATION.search(err)
    if not m:
        raise MediaError(f"not a media file: {Path(path).name}")
    duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    v = _VIDEO.search(err)
    a = _AUDIO.search(err)
    return Probe(
        duration=duration, has_video=bool(v), has_audio=bool(a),
        width=int(v.group(3)) if v else None, height=int(v.group(4)) if v else None,
        video_codec=v.group(1) if v else None, pix_fmt=v.group(2) if v else None,
        audio_codec=a.group(1) if a else None, sample_rate=int(a.group(2)) if a else None,
    )


def media_duration(path: str | Path) -> float:
    return probe(path).duration


def ken_burns_clip(image: str | Path, out: str | Path, *, seconds: float = 5.0, size: tuple[int, int] = (1280, 720),
                   variant: int = 0) -> Path:
    """A Runway-like clip from a still: slow zoom and pan, H.264, 24 fps, no audio."""
    w, h = size
    frames = int(round(seconds * FPS))
    zoom = "min(1.0+0.0016*on,1.2)" if variant % 2 == 0 else "max(1.2-0.0016*on,1.0)"
    pan_x = ["iw/2-(iw/zoom/2)", "(iw-iw/zoom)*on/%d" % frames, "(iw-iw/zoom)*(1-on/%d)" % frames][variant % 3]
    vf = (f"scale={w * 2}:{h * 2}:force_original_aspect_ratio=increase,crop={w * 2}:{h * 2},"
          f"zoompan=z='{zoom}':x='{pan_x}':y='ih/2-(ih/zoom/2)':d={frames}:s={w}x{h}:fps={FPS},"
          f"format=yuv420p")
    run_ffmpeg(["-loop", "1", "-i", str(image), "-vf", vf, "-frames:v", str(frames), "-an",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-movflags", "+faststart", str(out)])
    return Path(out)


def to_wav(data_path: str | Path, out: str | Path) -> Path:
    run_ffmpeg(["-i", str(data_path), "-ac", "1", "-ar", "48000", str(out)])
    return Path(out)


def fit_narration(parts: list[str | Path], out: str | Path, *, slot: float = 5.0, max_tempo: float = 1.25) -> Path:
    """Lay segment i's narration at i*slot: speed up an overlong part up to max_tempo, cut
    what still overflows, pad the rest with silence. Output: AAC 48 kHz stereo, len(parts)*slot s."""
    inputs: list[str] = []
    chains: list[str] = []
    for i, part in enumerate(parts):
        inputs += ["-i", str(part)]
        tempo = min(max(media_duration(part) / slot, 1.0), max_tempo)
        tempo_filter = f"atempo={tempo:.4f}," if tempo > 1.001 else ""
        chains.append(f"[{i}:a]aresample=48000,aformat=channel_layouts=stereo,{tempo_filter}"
                      f"afade=t=out:st={slot - 0.08:.2f}:d=0.08,apad=whole_dur={slot},atrim=0:{slot},"
                      f"asetpts=N/SR/TB[a{i}]")
    concat = "".join(f"[a{i}]" for i in range(len(parts))) + f"concat=n={len(parts)}:v=0:a=1[out]"
    run_ffmpeg([*inputs, "-filter_complex", ";".join(chains + [concat]), "-map", "[out]",
                "-c:a", "aac", "-b:a", "128k", "-ar", "48000", str(out)])
    return Path(out)


def video_bitrate_for(duration: float, max_bytes: int = TELEGRAM_MAX_BYTES, headroom: float = 0.9) -> int:
    """The highest video bitrate (bit/s) that keeps the file under max_bytes for this duration."""
    total = max_bytes * 8 * headroom / max(duration, 1.0)
    return int(total - AUDIO_BITRATE)


def assemble(clips: list[str | Path], narration: str | Path, out: str | Path, *, aspect_ratio: str = "16:9",
             clip_seconds: float = 5.0, max_bytes: int = TELEGRAM_MAX_BYTES) -> Path:
    """Join the clips (each fitted to exactly clip_seconds and the target frame) under the
    narration: H.264 yuv420p + AAC 48 kHz, +faststart, never over max_bytes."""
    w, h = SIZES[aspect_ratio]
    duration = clip_seconds * len(clips)
    inputs: list[str] = []
    chains: list[str] = []
    for i, clip in enumerate(clips):
        inputs += ["-i", str(clip)]
        chains.append(f"[{i}:v]scale={w}:{h}:force_original_aspect_ratio=decrease,"
                      f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={FPS},"
                      f"tpad=stop_mode=clone:stop_duration={clip_seconds},trim=0:{clip_seconds},"
                      f"setpts=PTS-STARTPTS,format=yuv420p[v{i}]")
    inputs += ["-i", str(narration)]
    concat = "".join(f"[v{i}]" for i in range(len(clips))) + f"concat=n={len(clips)}:v=1:a=0[v]"
    bitrate = min(video_bitrate_for(duration, max_bytes), 4_000_000)
    for attempt in range(3):
        run_ffmpeg([*inputs, "-filter_complex", ";".join(chains + [concat]),
                    "-map", "[v]", "-map", f"{len(clips)}:a", "-t", f"{duration}",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "21",
                    "-maxrate", str(bitrate), "-bufsize", str(bitrate * 2), "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-movflags", "+faststart", str(out)])
        size = Path(out).stat().st_size
        if size <= max_bytes:
            return Path(out)
        bitrate = int(bitrate * max_bytes / size * 0.85)  # re-encode lower, and check again
    raise MediaError(f"could not bring the video under {max_bytes} bytes")
