"""Offline providers that make real media with no network: a deterministic script writer,
Pillow slides, FFmpeg Ken Burns clips, and espeak-ng speech.

They keep the vendors' task shape (submit, then poll): a submitted task's output is written
to a spool folder and its "URL" is a file:// URL. They finish at once, unless a latency
scale is set (OFFLINE_LATENCY_SCALE): then every call takes the seed's vendor time for it,
multiplied by the scale, as bench/pipeline needs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlparse

from videobot.media import SIZES, FFmpeg
from videobot.providers.base import (
    CANCELLED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    ClipRequest,
    ImageRequest,
    LongPart,
    Prompts,
    Rewrites,
    Script,
    Speech,
    TaskState,
    first_words,
)

# The seed's vendor times in seconds, (shortest, longest) per call. "prompts" is one call
# that writes all ten prompts of a kind with the whole script in view (our design; the
# seed made ten calls of "image_prompt" or "animation_prompt" each); its output is ten
# times longer, so it is modelled as one call plus token time. "speech" is the whole
# narration; spoken segment by segment, each part takes a tenth of it plus 0.3 s.
VENDOR_SECONDS = {
    "script": (10, 20),
    "image_prompt": (3, 6),
    "animation_prompt": (3, 6),
    "prompts": (6, 10),
    "image": (12, 30),
    "clip": (30, 60),
    "speech": (5, 10),
}


def vendor_seconds(kind: str, key: object = 0) -> float:
    """A deterministic draw from VENDOR_SECONDS[kind] for one call (key: the segment)."""
    low, high = VENDOR_SECONDS[kind]
    digest = hashlib.sha256(f"{kind}:{key}".encode()).digest()
    return low + (high - low) * int.from_bytes(digest[:4], "big") / 2**32


def segment_speech_seconds() -> float:
    return vendor_seconds("speech") / 10 + 0.3


FONT_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str:
    """ "ru" when the text has more Cyrillic than Latin letters, else "en"."""
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
    "wide establishing shot",
    "close-up of the main subject",
    "hands at work, detailed textures",
    "bright inviting interior",
    "people smiling together",
    "macro detail with soft bokeh",
    "dynamic hero shot",
    "friends sharing the moment",
    "elegant product still life",
    "warm closing panorama",
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
    def __init__(self, latency_scale: float = 0.0):
        self.latency_scale = latency_scale

    def _take(self, seconds: float) -> None:
        if self.latency_scale:
            time.sleep(seconds * self.latency_scale)

    def write_script(
        self, topic: str, *, language: str | None = None, feedback: str | None = None, previous: list[str] | None = None
    ) -> Script:
        self._take(vendor_seconds("script"))
        language = language or detect_language(topic)
        lines = _SCRIPT["ru" if language == "ru" else "en"]
        # Offline, a revision can only follow feedback literally: it becomes the subject.
        segments = [line.format(topic=short_topic(feedback or topic)) for line in lines]
        return Script(language=language, segments=segments)

    def write_image_prompts(self, topic: str, segments: list[str]) -> Prompts:
        self._take(vendor_seconds("prompts", "image"))
        subject = short_topic(topic, 5)
        return Prompts(
            [
                f"Cinematic photo for \u00ab{subject}\u00bb, {_SCENES[i % 10]}, soft golden light, "
                f"shallow depth of field, rich colour, high detail, no text"
                for i in range(len(segments))
            ]
        )

    def write_animation_prompts(self, topic: str, segments: list[str], image_prompts: list[str]) -> Prompts:
        self._take(vendor_seconds("prompts", "animation"))
        return Prompts([_MOTIONS[i % 10] for i in range(len(segments))])

    def revise_image_prompts(self, topic: str, prompts: list[str], wish: str, world: list[str]) -> Prompts:
        """Offline, a wish can only be followed literally: it replaces the prompt's mood, the
        rest (the scene, "no text") kept, within the prompts' 200 characters."""
        self._take(vendor_seconds("prompts", "image"))
        wish = " ".join(wish.split())[:60]
        return Prompts(
            [f"{prompt.rsplit(', no text', 1)[0][: 200 - len(wish) - 11]}, {wish}, no text" for prompt in prompts]
        )

    def revise_animation_prompts(self, topic: str, prompts: list[str], wish: str, pictures: list[str]) -> Prompts:
        """Offline, a wish is followed where its words name a pace ("медленнее", "faster") or a
        stillness: the motion's own pace words are replaced by the one asked for. Other words
        join as the clip's mood, as the image reviser does; within the prompts' 100 characters."""
        self._take(vendor_seconds("prompts", "animation"))
        return Prompts([revise_motion(prompt, wish) for prompt in prompts])

    def shorten_narration(self, topic: str, language: str, script: list[str], parts: list[LongPart]) -> Rewrites:
        """Offline, a part is shortened to its first max_words words (a model would rephrase)."""
        self._take(vendor_seconds("prompts", "narration"))
        return Rewrites({p.index: first_words(p.text, p.max_words) for p in parts})


# A motion wish's words (Russian or English stems) and the pace each asks for: an explicit
# speed, which wins over a manner ("быстрее, но плавно" is faster, smoothly), then a manner. A
# negated speed ("не так медленно", "not so fast", "less slow") asks for a moderate pace.
_SLOW, _FAST, _STILL = "very slow and calm", "brisk and dynamic", "almost still, barely moving"
_MODERATE, _FAST_SMOOTH = "steady, moderate pace", "brisk yet smooth"
_SPEEDS = (
    (("медлен", "помедл", "slow"), _SLOW),
    (("быстр", "fast", "quick", "rapid"), _FAST),
    (("статичн", "без движ", "неподвиж", "static", "still", "no motion"), _STILL),
)
_MANNERS = (
    (("плавн", "спокойн", "мягк", "smooth", "calm", "gentl"), _SLOW),
    (("динамичн", "энергичн", "резч", "dynamic", "energetic"), _FAST),
)
_PACES = (_SLOW, _FAST, _STILL, _MODERATE, _FAST_SMOOTH)
_NEGATION = r"(?:\bне|\bnot|\bless|\bменее)\s+(?:(?:так\w*|слишком|очень|настолько|so|too|as|that)\s+)?\w*"
_PACE_WORDS = re.compile(
    r"\b(?:very |almost )?(?:slow(?:ly)?|gentl[ey]|smooth(?:ly)?|steady|steadily|calm(?:ly)?|subtle|"
    r"brisk(?:ly)?|fast|quick(?:ly)?|dynamic|rapid(?:ly)?)\b,?\s*",
    re.IGNORECASE,
)
MOTION_PROMPT_CHARS = 100


def revise_motion(motion: str, wish: str) -> str:
    """A motion prompt with a wish worked in, deterministically: the pace the wish names (the
    motion's own pace words dropped), else the wish's words as the clip's mood."""
    wish = " ".join(wish.split())
    pace = _pace(wish.lower())
    if pace is None:
        kept = motion[: max(0, MOTION_PROMPT_CHARS - len(wish[:60]) - 2)].rstrip(" ,.")
        return f"{kept}, {wish[:60]}"
    for said in _PACES:  # a pace asked for before gives way
        motion = motion[len(said) + 2 :] if motion.lower().startswith(f"{said}: ") else motion
    plain = re.sub(r"(?:[\s,]+and)+$", "", " ".join(_PACE_WORDS.sub("", motion).split()).strip(" ,.")).strip(" ,")
    plain = plain[:1].lower() + plain[1:]
    return f"{pace[:1].upper()}{pace[1:]}: {plain}"[:MOTION_PROMPT_CHARS].rstrip(" ,")


def _pace(wish: str) -> str | None:
    """The pace a (lower-case) wish asks for, None when it names none."""

    def said(table: tuple) -> tuple[str, bool] | None:  # (its pace, negated)
        for stems, pace in table:
            for stem in stems:
                if stem in wish:
                    return pace, re.search(_NEGATION + re.escape(stem), wish) is not None
        return None

    speed, manner = said(_SPEEDS), said(_MANNERS)
    if speed is None:
        return None if manner is None else _MODERATE if manner[1] else manner[0]
    if speed[1]:
        return _MODERATE
    if speed[0] == _FAST and manner == (_SLOW, False):  # "быстрее, но плавно"
        return _FAST_SMOOTH
    return speed[0]


def _read_url(url: str) -> bytes:
    if url.startswith("data:"):
        return base64.b64decode(url.split(",", 1)[1])
    parsed = urlparse(url)
    if parsed.scheme != "file":
        raise ValueError(f"offline providers read file:// or data: URLs only, not {parsed.scheme}://")
    return Path(unquote(parsed.path)).read_bytes()


class _SpoolTasks:
    """A vendor-like task store on disk: submit makes the output, get_task reports it. With a
    latency scale the output is made in the background and the task stays RUNNING until the
    vendor's (scaled) time has passed, as a real vendor's would."""

    kind = "task"
    ext = "bin"

    def __init__(self, spool_dir: str | Path, latency_scale: float = 0.0):
        self.spool = Path(spool_dir)
        self.spool.mkdir(parents=True, exist_ok=True)
        self.latency_scale = latency_scale

    def _submit(self, make, key: int) -> str:
        """make(path) writes the output to path."""
        task_id = f"offline-{self.kind}-{uuid.uuid4()}"
        path = self.spool / f"{task_id}.{self.ext}"
        if not self.latency_scale:
            make(path)
            return task_id
        ready_at = time.time() + vendor_seconds(self.kind, key) * self.latency_scale
        (self.spool / f"{task_id}.json").write_text(json.dumps({"ready_at": ready_at}))
        threading.Thread(target=make, args=(path,), daemon=True).start()
        return task_id

    def get_task(self, task_id: str) -> TaskState:
        path = self.spool / f"{task_id}.{self.ext}"
        timing = self.spool / f"{task_id}.json"
        if (self.spool / f"{task_id}.cancelled").exists():
            return TaskState(status=CANCELLED)
        if timing.exists():
            ready_at = json.loads(timing.read_text())["ready_at"]
            if time.time() < ready_at or not path.exists():
                return TaskState(status=RUNNING)
        if path.exists():
            return TaskState(status=SUCCEEDED, output_url=path.resolve().as_uri(), progress=1.0)
        return TaskState(status=FAILED, failure="task output is missing", failure_code="INTERNAL.OFFLINE_MISSING")

    def fetch_output(self, url: str) -> bytes:
        return _read_url(url)

    def cancel(self, task_id: str) -> None:
        """As a vendor does: the task reports CANCELLED from now on."""
        (self.spool / f"{task_id}.cancelled").touch()

    def estimate(self, request) -> dict:
        """What the task costs (videobot.usage records it): nothing, offline."""
        return {
            "vendor": "offline",
            "model": f"offline-{self.kind}",
            "seconds": getattr(request, "duration", 0),
            "credits": 0,
        }


class OfflineImageGenerator(_SpoolTasks):
    kind, ext = "image", "png"

    def submit(self, request: ImageRequest) -> str:
        def make(path: Path) -> None:
            part = path.with_suffix(".part.png")
            part.write_bytes(render_slide(request.prompt, ratio=request.ratio, seed=request.seed))
            part.rename(path)

        return self._submit(make, request.seed)


class OfflineClipGenerator(_SpoolTasks):
    kind, ext = "clip", "mp4"

    def __init__(self, spool_dir: str | Path, ffmpeg: FFmpeg, latency_scale: float = 0.0):
        super().__init__(spool_dir, latency_scale)
        self.ffmpeg = ffmpeg

    def submit(self, request: ClipRequest) -> str:
        source = _read_url(request.image_url)  # read now: a vendor fetches the image at once

        def make(path: Path) -> None:
            still = path.with_suffix(".src.png")
            still.write_bytes(source)
            try:
                self.ffmpeg.ken_burns_clip(
                    still,
                    path.with_suffix(".part.mp4"),
                    seconds=request.duration,
                    size=SIZES[request.ratio],
                    variant=request.seed,
                )
                path.with_suffix(".part.mp4").rename(path)
            finally:
                still.unlink(missing_ok=True)

        return self._submit(make, request.seed)


class OfflineSpeech:
    LANGUAGE_VOICES = {"ru": "ru", "en": "en-us"}
    # The voices a user may pick in /settings: espeak-ng variants of the language's voice.
    VOICES = {"default": "", "female": "+f3", "male": "+m3"}

    def __init__(self, latency_scale: float = 0.0):
        self.latency_scale = latency_scale

    def synthesize(self, text: str, *, language: str, voice: str | None = None) -> Speech:
        from videobot.providers.espeak import speak_wav

        if self.latency_scale:
            time.sleep(segment_speech_seconds() * self.latency_scale)

        name = self.LANGUAGE_VOICES.get(language, "en-us") + self.VOICES.get(voice or "default", "")
        audio = speak_wav(text, voice=name, words_per_minute=160)
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
    y = h // 12 + int(title_font.size * 1.4)  # under the number: the bottom is the subtitles' place
    for line in lines:
        draw.text((w // 16 + 2, y + 2), line, font=body_font, fill=(0, 0, 0))
        draw.text((w // 16, y), line, font=body_font, fill=(255, 255, 255))
        y += int(body_font.size * 1.3)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=False, compress_level=3)
    return out.getvalue()
