"""Offline providers that make real media with no network: a deterministic script writer,
Pillow slides, FFmpeg Ken Burns clips, and espeak-ng speech.

They keep the vendors' task shape (submit, then poll), finishing at once: a submitted task's
output is written to a spool folder and its "URL" is a file:// URL.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from pathlib import Path
from urllib.parse import unquote, urlparse

from videobot.providers.base import (
    FAILED, SUCCEEDED, ClipRequest, ImageRequest, Script, Speech, TaskState,
)

FONT_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str:
    """"ru" when the text has more Cyrillic than Latin letters, else "en"."""
    return "ru" if len(_CYRILLIC.findall(text)) >= max(1, len(_LATIN.findall(text))) else "en"


def short_topic(topic: str, words: int = 6) -> str:
    parts = " ".join(topic.split()).split(" ")
    text = " ".join(parts[:words])
    return text + ("…" if len(parts) > words else "")


_SCRIPT = {
    "ru": [
        "{topic}. Давайте посмотрим, почему это важно.",
        "Всё начинается с простой идеи и большого желания.",
        "Мы собрали самое лучшее в одном коротком видео.",
        "Посмотрите внимательно: здесь важна каждая деталь.",
        "За этим стоят люди, которые любят своё дело.",
        "Они вкладывают время, силы и настоящую заботу.",
        "Результат говорит сам за себя с первого взгляда.",
        "Об этом хочется рассказать друзьям и близким.",
        "Это больше, чем кажется на первый взгляд.",
        "Попробуйте сами и почувствуйте разницу уже сегодня.",
    ],
    "en": [
        "{topic}. Let us see why it matters.",
        "It all starts with a simple idea and a big wish.",
        "We gathered the very best into one short video.",
        "Look closely: every single detail matters here.",
        "Behind it are people who truly love their work.",
        "They give it their time, their skill and real care.",
        "The result speaks for itself at first sight.",
        "It is something you want to share with friends.",
        "It is more than it seems at first glance.",
        "Try it yourself and feel the difference today.",
    ],
}
_SCENES = [
    "wide establishing shot", "close-up of the main subject", "hands at work, detailed textures",
    "bright inviting interior", "people smiling together", "macro detail with soft bokeh",
    "dynamic hero shot", "friends sharing the moment", "elegant product still life", "warm closing panorama",
]
_MOTIONS = [
    "Slow dolly in toward the subject, soft light flickering gently",
    "Gentle pan from left to right across the scene, smooth and steady",
    "Camera slowly rises, revealing the whole setting in warm light",
    "Subtle handheld drift, steam and dust floating in the air",
    "Smooth orbit around the subject with a shallow, dreamy focus",
    "Slow zoom out while the warm light shifts gently across",
    "Steady push in with a light rack focus onto the fine details",
    "Gentle tilt up as people move naturally through the frame",
    "Slow parallax slide past the objects in the foreground",
    "Calm pull back as the golden light fades softly to the end",
]


class OfflineLLM:
    def write_script(self, topic: str, *, language: str | None = None) -> Script:
        language = language or detect_language(topic)
        lines = _SCRIPT["ru" if language == "ru" else "en"]
        segments = [line.format(topic=short_topic(topic)) for line in lines]
        return Script(language=language, segments=segments)

    def write_image_prompts(self, topic: str, segments: list[str]) -> list[str]:
        subject = short_topic(topic, 5)
        return [f"Cinematic photo for \u00ab{subject}\u00bb, {_SCENES[i % 10]}, soft golden light, "
                f"shallow depth of field, rich colour, high detail, no text" for i in range(len(segments))]

    def write_animation_prompts(self, topic: str, segments: list[str], image_prompts: list[str]) -> list[str]:
        return [_MOTIONS[i % 10] for i in range(len(segments))]


def _read_url(url: str) -> bytes:
    if url.startswith("data:"):
        return base64.b64decode(url.split(",", 1)[1])
    parsed = urlparse(url)
    if parsed.scheme != "file":
        raise ValueError(f"offline providers read file:// or data: URLs only, not {parsed.scheme}://")
    return Path(unquote(parsed.path)).read_bytes()


class _SpoolTasks:
    """A vendor-like task store on disk: submit writes the output, get_task reports it."""

    kind = "task"
    ext = "bin"

    def __init__(self, spool_dir: str | Path):
        self.spool = Path(spool_dir)
        self.spool.mkdir(parents=True, exist_ok=True)

    def _new_task(self) -> tuple[str, Path]:
        task_id = f"offline-{self.kind}-{uuid.uuid4()}"
        return task_id, self.spool / f"{task_id}.{self.ext}"

    def get_task(self, task_id: str) -> TaskState:
        path = self.spool / f"{task_id}.{self.ext}"
        if path.exists():
            return TaskState(status=SUCCEEDED, output_url=path.resolve().as_uri(), progress=1.0)
        return TaskState(status=FAILED, failure="task output is missing", failure_code="INTERNAL.OFFLINE_MISSING")

    def fetch_output(self, url: str) -> bytes:
        return _read_url(url)

    def estimate(self, request) -> dict:
        """What the task costs (videobot.usage records it): nothing, offline."""
        return {"vendor": "offline", "model": f"offline-{self.kind}",
                "seconds": getattr(request, "duration", 0), "credits": 0}


class OfflineImageGenerator(_SpoolTasks):
    kind, ext = "image", "png"

    def submit(self, request: ImageRequest) -> str:
        task_id, path = self._new_task()
        path.write_bytes(render_slide(request.prompt, ratio=request.ratio, seed=request.seed))
        return task_id


class OfflineClipGenerator(_SpoolTasks):
    kind, ext = "clip", "mp4"

    def submit(self, request: ClipRequest) -> str:
        from videobot import media

        task_id, path = self._new_task()
        still = path.with_suffix(".src.png")
        still.write_bytes(_read_url(request.image_url))
        try:
            media.ken_burns_clip(still, path.with_suffix(".part.mp4"), seconds=request.duration,
                                 size=media.SIZES[request.ratio], variant=request.seed)
            path.with_suffix(".part.mp4").rename(path)
        finally:
            still.unlink(missing_ok=True)
        return task_id


class OfflineSpeech:
    VOICES = {"ru": "ru", "en": "en-us"}

    def synthesize(self, text: str, *, language: str) -> Speech:
        from videobot.providers.espeak import speak_wav

        audio = speak_wav(text, voice=self.VOICES.get(language, "en-us"), words_per_minute=160)
        return Speech(audio=audio, extension="wav", characters=len(text))


# ---- slides -----------------------------------------------------------------------------

def _palette(seed_text: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    digest = hashlib.sha256(seed_text.encode("utf-8")).digest()
    a = tuple(40 + b % 150 for b in digest[:3])
    b = tuple(20 + x % 90 for x in digest[3:6])
    return a, b  # type: ignore[return-value]


def _wrap(draw, text: str, font, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def render_slide(prompt: str, *, ratio: str = "16:9", seed: int = 0) -> bytes:
    """A 1920x1080 (or 1080x1920) PNG: a gradient, soft shapes and the prompt in a
    Cyrillic-capable font, so every segment's slide is distinct and readable."""
    import io

    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    w, h = (1920, 1080) if ratio == "16:9" else (1080, 1920)
    top, bottom = _palette(f"{seed}:{prompt}")
    img = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(img)
    for y in range(h):
        t = y / (h - 1)
        draw.line([(0, y), (w, y)], fill=tuple(int(top[i] * (1 - t) + bottom[i] * t) for i in range(3)))
    shapes = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    sdraw = ImageDraw.Draw(shapes)
    digest = hashlib.sha256(f"shapes:{seed}:{prompt}".encode()).digest()
    for k in range(6):
        cx, cy = digest[k] * w // 256, digest[k + 6] * h // 256
        r = 80 + digest[k + 12] % 220
        sdraw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 255, 255, 38))
    img = Image.alpha_composite(img.convert("RGBA"), shapes.filter(ImageFilter.GaussianBlur(12))).convert("RGB")
    draw = ImageDraw.Draw(img)
    title_font = ImageFont.truetype(str(FONT_DIR / "DejaVuSans-Bold.ttf"), size=w // 12)
    body_font = ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), size=w // 32)
    draw.text((w // 16, h // 12), f"{seed + 1:02d}", font=title_font, fill=(255, 255, 255))
    lines = _wrap(draw, prompt, body_font, int(w * 0.85))[:8]
    y = h - h // 12 - len(lines) * int(body_font.size * 1.3)
    for line in lines:
        draw.text((w // 16 + 2, y + 2), line, font=body_font, fill=(0, 0, 0))
        draw.text((w // 16, y), line, font=body_font, fill=(255, 255, 255))
        y += int(body_font.size * 1.3)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=False, compress_level=3)
    return out.getvalue()
