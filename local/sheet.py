"""`make demo INTERACTIVE=1`'s contact sheet: at the image and clip gates, one PNG with the
ten images (or each clip's middle frame), numbered as the bot numbers them, instead of ten
file paths; `--open` (or OPEN=1) shows it in the system viewer."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from videobot.data.rows import Segment
from videobot.pipeline import IMAGE, MediaKind
from videobot.storage import Storage

COLUMNS = 5
CELL_LONG, CELL_SHORT = 320, 180  # a 16:9 frame's cell; a 9:16 frame's is the other way round
GAP = 12
FONT = Path(__file__).resolve().parent.parent / "functions" / "videobot" / "assets" / "fonts" / "DejaVuSans-Bold.ttf"


def middle_frame(path: Path, duration: float | None) -> Image.Image:
    """The frame in the middle of a clip (ffmpeg from imageio-ffmpeg, as the local runner uses)."""
    import imageio_ffmpeg

    at = max(0.0, (duration or 5.0) / 2)
    grab = ["-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"]
    out = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", *grab],
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout
    return Image.open(io.BytesIO(out)).convert("RGB")


def contact_sheet(frames: list[tuple[int, Image.Image]], out: Path, title: str) -> Path:
    """One PNG of `frames` ((1-based number, picture)), COLUMNS to a row, each numbered."""
    landscape = not frames or frames[0][1].width >= frames[0][1].height
    cell_w, cell_h = (CELL_LONG, CELL_SHORT) if landscape else (CELL_SHORT, CELL_LONG)
    rows = max(1, -(-len(frames) // COLUMNS))
    header = 44
    sheet = Image.new("RGB", (GAP + COLUMNS * (cell_w + GAP), header + rows * (cell_h + GAP) + GAP), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    draw.text((GAP, 10), title, fill=(235, 235, 235), font=ImageFont.truetype(str(FONT), 20))
    label = ImageFont.truetype(str(FONT), 26)
    for i, (number, picture) in enumerate(frames):
        x, y = GAP + (i % COLUMNS) * (cell_w + GAP), header + (i // COLUMNS) * (cell_h + GAP)
        thumb = picture.copy()
        thumb.thumbnail((cell_w, cell_h))
        sheet.paste(thumb, (x + (cell_w - thumb.width) // 2, y + (cell_h - thumb.height) // 2))
        text = str(number)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=label)
        box = (x + 6, y + 6, x + 6 + (right - left) + 16, y + 6 + (bottom - top) + 14)
        draw.rounded_rectangle(box, radius=8, fill=(0, 0, 0))
        draw.text((box[0] + 8 - left, box[1] + 7 - top), text, fill=(255, 255, 255), font=label)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG")
    return out


def gate_sheet(store: Storage, segments: list[Segment], kind: MediaKind, out: Path, title: str) -> Path:
    """The contact sheet of a gate: the segments' images, or their clips' middle frames."""
    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        for seg in segments:
            key = seg.media(kind).path
            if not key:
                continue
            if kind is IMAGE:
                picture = Image.open(io.BytesIO(store.get_bytes(key))).convert("RGB")
            else:
                path = store.local_path(key) or store.download(key, Path(tmp) / f"{seg.segment_index}.mp4")
                picture = middle_frame(Path(path), seg.video_duration)
            frames.append((seg.segment_index + 1, picture))
        return contact_sheet(frames, out, title)


def open_in_viewer(path: Path) -> str | None:
    """Open `path` with the system viewer (xdg-open, or open on macOS). Returns why it could not
    (no viewer, or the viewer failed to start), or None once it started."""
    viewer = shutil.which("open" if sys.platform == "darwin" else "xdg-open")
    if viewer is None:
        return "no system viewer (xdg-open or open) on this machine"
    try:
        subprocess.Popen([viewer, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as exc:
        return f"{Path(viewer).name} did not start: {exc}"
    return None
