"""A fake Runway developer API: `POST /v1/text_to_image`, `POST /v1/image_to_video`,
`GET /v1/tasks/{id}`, `DELETE /v1/tasks/{id}`, plus the output files the tasks point at.

It checks the bearer key, `X-Runway-Version`, the model, the ratio, the duration, the
prompt (at most 1000 UTF-16 code units) and the image inputs (HTTPS URL or a data URI under
5,000,000 bytes; up to three tagged
reference images), and walks each task through planned statuses: by default RUNNING, then
SUCCEEDED. `plan()` makes chosen tasks THROTTLED for a while, FAILED with a failureCode, or
CANCELLED. `FakeRunway(concurrency=n)` is a usage tier: at most n unfinished tasks of a model run
at once, the rest answer THROTTLED (in the order they were created) until one ends.
"""

from __future__ import annotations

import base64
import io
import re
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.fakes.http import FakeServer, Reply, Request, json_reply

API_KEY = "key_test_fake_runway"
VERSION = "2024-11-06"
IMAGE_RATIOS = {
    "gen4_image": {
        "1024:1024",
        "1080:1080",
        "1168:880",
        "1360:768",
        "1440:1080",
        "1080:1440",
        "1808:768",
        "1920:1080",
        "1080:1920",
        "2112:912",
        "1280:720",
        "720:1280",
        "720:720",
        "960:720",
        "720:960",
        "1680:720",
    }
}
IMAGE_RATIOS["gen4_image_turbo"] = IMAGE_RATIOS["gen4_image"]
# Runway's API reference (image_to_video, read 2026-12-02): gen4.5 takes 2-10 s, veo3.1_fast
# 4, 6 or 8 s at 1280:720 or 720:1280 only; gen4_image_turbo requires referenceImages.
VIDEO_RATIOS = {
    "gen4_turbo": {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"},
    "gen4.5": {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"},
    "veo3.1_fast": {"1280:720", "720:1280"},
}
VIDEO_DURATIONS = {"gen4_turbo": {5, 10}, "gen4.5": set(range(2, 11)), "veo3.1_fast": {4, 6, 8}}
# Credits as Runway bills them (its pricing page): per image, and per second of clip.
IMAGE_CREDITS = {"gen4_image": 5, "gen4_image_turbo": 2}
VIDEO_CREDITS_PER_SECOND = {"gen4_turbo": 5, "gen4.5": 12, "veo3.1_fast": 10}
# veo3.1_fast takes `audio: bool`, and "audio inclusion affects pricing" (runwayml 5.24,
# Veo3_1Fast): 10 credits/s without audio, 15 with (Runway's pricing, 10-15 credits/s). A
# request that does not say is taken as with audio.
AUDIO_CREDITS_PER_SECOND = {"veo3.1_fast": 15}
# A FAILED task reports its `cost` ("fully refunded tasks report 0", runwayml 5.24 FailedCost):
# a moderation refusal of an input (SAFETY.INPUT.*) is not refunded; other failures are.
NOT_REFUNDED = ("SAFETY.INPUT.",)
# Runway's task failure codes (docs.dev.runwayml.com/errors/task-failures, read 2026-12-04; the
# SDK's `failureCode` is Optional): SAFETY.* and INPUT_PREPROCESSING.SAFETY.* are moderation
# refusals (retrying the same input fails the same way); INTERNAL.BAD_OUTPUT.* may succeed when
# retried; INTERNAL, INPUT_PREPROCESSING.INTERNAL and a failure without a code may be retried
# after a delay; THIRD_PARTY.UNAVAILABLE (a provider behind the model is down) is not to be
# retried at once: wait, then retry; ASSET.INVALID is an input Runway could not use.
FAILURE_CODES = re.compile(
    r"^(SAFETY\.[A-Z_.]+|INPUT_PREPROCESSING\.SAFETY\.[A-Z_]+|INPUT_PREPROCESSING\.INTERNAL"
    r"|INTERNAL(\.[A-Z0-9_]+)*|ASSET\.INVALID|THIRD_PARTY\.UNAVAILABLE)$"
)
NO_FAILURE_CODE = ""  # plan(failure_code=NO_FAILURE_CODE): a FAILED task whose failureCode is null
# Text moderation runs before generation: a prompt with one of these words fails the task with
# INPUT_PREPROCESSING.SAFETY.TEXT (the fake's stand-in for Runway's moderation).
MODERATED_WORDS = ("bloodbath", "massacre")
TAG = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,15}$")
# Runway's units (docs.dev.runwayml.com/assets/inputs "Data URI size limit: 5MB" for images;
# runwayml 5.24: promptText "up to 1000 characters (measured in UTF-16 code units)").
MAX_DATA_URI = 5_000_000
MAX_PROMPT_UNITS = 1000


def utf16_units(text: str) -> int:
    """The length in UTF-16 code units: a character beyond the BMP (an emoji) counts 2."""
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


_clip_cache: dict[str, bytes] = {}
_clip_lock = threading.Lock()


@dataclass
class Plan:
    kind: str  # "text_to_image" or "image_to_video"
    statuses: list[str]
    seed: int | None = None  # which request it applies to (None: the next one)
    failure_code: str | None = None
    times: int = 1


@dataclass
class Task:
    id: str
    kind: str
    body: dict
    statuses: list[str]
    failure_code: str | None
    created_at: str
    polls: int = 0
    history: list[str] = field(default_factory=list)
    admitted: bool = False  # holds one of its model's concurrency slots (FakeRunway(concurrency=...))
    started: float = field(default_factory=time.monotonic)  # when it began to run (task_seconds)

    @property
    def finished(self) -> bool:
        """Its last poll answered an end (or it was cancelled): its slot is free."""
        return self.statuses == ["CANCELLED"] or (bool(self.history) and self.history[-1] in TERMINAL)


TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


def error(status: int, message: str) -> Reply:
    return json_reply(status, {"error": message})


def png(ratio: str, seed: int = 0) -> bytes:
    from PIL import Image, ImageDraw

    w, h = (int(x) for x in ratio.split(":"))
    img = Image.new("RGB", (w, h), (60 + seed * 17 % 150, 90, 140 - seed * 9 % 90))
    ImageDraw.Draw(img).ellipse([w // 4, h // 4, 3 * w // 4, 3 * h // 4], fill=(230, 200, 150))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def mp4(ratio: str) -> bytes:
    """A real 5-second H.264 clip (made once per ratio with the project's own FFmpeg helper)."""
    with _clip_lock:
        if ratio not in _clip_cache:
            from videobot import media

            w, h = (int(x) for x in ratio.split(":"))
            with tempfile.TemporaryDirectory() as tmp:
                still = Path(tmp) / "still.png"
                still.write_bytes(png(ratio))
                out = Path(tmp) / "clip.mp4"
                media.FFmpeg().ken_burns_clip(still, out, seconds=5, size=(w, h))
                _clip_cache[ratio] = out.read_bytes()
        return _clip_cache[ratio]


def _data_uri_problem(uri: str, what: str) -> str | None:
    m = re.match(r"^data:image/(png|jpeg|webp);base64,(.+)$", uri, re.DOTALL)
    if not m:
        return f"{what} must be an HTTPS URL, a runway:// upload or a data URI (got {uri.split(':', 1)[0]}:)"
    if len(uri) >= MAX_DATA_URI:
        return f"{what}: data URIs must be under 5MB"
    try:
        data = base64.b64decode(m.group(2), validate=True)
    except ValueError:
        return f"{what}: invalid base64"
    if not (data.startswith((b"\x89PNG", b"\xff\xd8")) or data[8:12] == b"WEBP"):
        return f"{what}: not an image"
    return None


class FakeRunway(FakeServer):
    def __init__(self, concurrency: int | None = None, daily_cap: int | None = None):
        super().__init__()
        # Runway's daily generation cap (docs.dev.runwayml.com/usage/tiers: "max gens/day", per
        # model; tier 1: 50 for some models, 200 for others): past it a create answers 429 and
        # starts nothing. None: no cap.
        self.daily_cap = daily_cap
        # Runway's usage tiers (docs.dev.runwayml.com/usage/tiers, read 2026-12-02): limits are per
        # model and project, tier 1 running 1-2 generations at once; a task over the limit is
        # accepted and waits as THROTTLED, then goes on as PENDING/RUNNING when a slot frees
        # (API reference, GET /v1/tasks/{id}: "THROTTLED" is queued over the concurrency limit).
        # None: no tier (every task runs at once).
        self.concurrency = concurrency
        self.tasks: dict[str, Task] = {}
        self.plans: list[Plan] = []
        # The internet as Runway sees it (the fake runs offline): what a HEAD of each https URL
        # answers. A URL not listed cannot be fetched.
        self.web: dict[str, int] = {}
        self.uploads: dict[str, bytes] = {}  # ephemeral uploads by runway:// URI
        # How long a task of each kind runs, as a real vendor's does: until then a poll answers
        # RUNNING and the task's planned statuses wait (0: the plan alone sets the pace).
        self.task_seconds: dict[str, float] = {"text_to_image": 0.0, "image_to_video": 0.0}

    def image_problem(self, uri, what: str) -> str | None:
        """Runway's input rules (docs.dev.runwayml.com, "Inputs", read 2026-12-02): an https URL
        must be at most 2048 characters and answer a HEAD with 200 without a redirect (so a
        presigned S3 GET, which answers HEAD with 403, is refused); a runway:// URI must come
        from an ephemeral upload; a data URI must be under 5 MB."""
        if not isinstance(uri, str) or not uri:
            return f"{what} must be a string"
        if uri.startswith("https://"):
            if len(uri) > 2048:
                return f"{what}: URLs must be at most 2048 characters"
            status = self.web.get(uri)
            if status is None:
                return f"{what}: the URL could not be fetched"
            if 300 <= status < 400:
                return f"{what}: the URL redirected (HTTP {status}); redirects are not followed"
            if status != 200:
                return f"{what}: a HEAD request to the URL answered HTTP {status}"
            return None
        if uri.startswith("runway://"):
            return None if uri in self.uploads else f"{what}: unknown or expired upload"
        return _data_uri_problem(uri, what)

    def plan(
        self,
        kind: str,
        statuses: list[str],
        *,
        seed: int | None = None,
        failure_code: str | None = None,
        times: int = 1,
    ) -> None:
        if failure_code not in (None, NO_FAILURE_CODE) and not FAILURE_CODES.match(failure_code):
            raise ValueError(f"{failure_code!r} is not a failure code Runway documents")
        self.plans.append(Plan(kind, statuses, seed, failure_code, times))

    def created(self, kind: str) -> list[Task]:
        return [t for t in self.tasks.values() if t.kind == kind]

    # -- routing ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/outputs/"):
            return self._output(request)
        if request.method == "POST" and request.path.startswith("/upload-bucket/"):
            return self._upload_file(request)
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return error(401, "Invalid API key")
        if request.headers.get("x-runway-version") != VERSION:
            return error(400, f"X-Runway-Version header must be set to {VERSION}")
        if request.route == "POST /v1/uploads":
            return self._start_upload(request)
        if request.route == "POST /v1/text_to_image":
            return self._create(request, "text_to_image", self._check_image)
        if request.route == "POST /v1/image_to_video":
            return self._create(request, "image_to_video", self._check_video)
        m = re.fullmatch(r"/v1/tasks/([0-9a-f-]{36})", request.path)
        if m and request.method == "GET":
            return self._get(m.group(1))
        if m and request.method == "DELETE":
            return self._cancel(m.group(1))
        return error(404, "Not found")

    def _cancel(self, task_id: str) -> Reply:
        task = self.tasks.get(task_id)
        if not task:
            return error(404, "Task not found")
        task.statuses, task.polls = ["CANCELLED"], 0
        return 204, {}, b""

    # -- validation ---------------------------------------------------------------------------

    @staticmethod
    def _check_prompt(body: dict, required: bool) -> str | None:
        text = body.get("promptText")
        if text is None and not required:
            return None
        if not isinstance(text, str) or not 1 <= utf16_units(text) <= MAX_PROMPT_UNITS:
            return f"promptText must be a non-empty string of at most {MAX_PROMPT_UNITS} UTF-16 code units"
        return None

    def _check_image(self, body: dict) -> str | None:
        model = body.get("model")
        if model not in IMAGE_RATIOS:
            return f"model: invalid value {model!r}"
        if body.get("ratio") not in IMAGE_RATIOS[model]:
            return f"ratio: invalid value {body.get('ratio')!r} for {model}"
        refs = body.get("referenceImages", [])
        if not isinstance(refs, list) or len(refs) > 3:
            return "referenceImages: at most 3"
        if model == "gen4_image_turbo" and not refs:
            return "referenceImages: gen4_image_turbo requires at least one reference image"
        for i, ref in enumerate(refs):
            problem = self.image_problem(ref.get("uri") if isinstance(ref, dict) else None, f"referenceImages[{i}].uri")
            if problem:
                return problem
            if "tag" in ref and not TAG.match(str(ref["tag"])):
                return f"referenceImages[{i}].tag: 3-16 letters, digits or underscores, starting with a letter"
        return self._check_prompt(body, required=True) or self._check_seed(body)

    def _check_video(self, body: dict) -> str | None:
        model = body.get("model")
        if model not in VIDEO_RATIOS:
            return f"model: invalid value {model!r}"
        if body.get("ratio") not in VIDEO_RATIOS[model]:
            return f"ratio: invalid value {body.get('ratio')!r} for {model}"
        if "duration" in body and body["duration"] not in VIDEO_DURATIONS[model]:
            return f"duration: must be one of {sorted(VIDEO_DURATIONS[model])}"
        if "audio" in body and (model not in AUDIO_CREDITS_PER_SECOND or not isinstance(body["audio"], bool)):
            return f"audio: {model} takes no audio" if model not in AUDIO_CREDITS_PER_SECOND else "audio: a boolean"
        return (
            self.image_problem(body.get("promptImage"), "promptImage")
            or self._check_prompt(body, required=False)
            or self._check_seed(body)
        )

    @staticmethod
    def _check_seed(body: dict) -> str | None:
        seed = body.get("seed", 0)
        if not isinstance(seed, int) or not 0 <= seed <= 4294967295:
            return "seed: an integer from 0 to 4294967295"
        return None

    # -- ephemeral uploads (POST /v1/uploads, then a presigned POST of the file) ----------------

    def _start_upload(self, request: Request) -> Reply:
        body = request.json() if request.body else {}
        if not isinstance(body, dict) or body.get("type") != "ephemeral" or not body.get("filename"):
            return json_reply(
                400,
                {
                    "error": "Validation of body failed",
                    "issues": [{"message": "filename and type 'ephemeral' are required"}],
                },
            )
        upload_id = str(uuid.uuid4())
        return json_reply(
            200,
            {
                "uploadUrl": f"{self.url}/upload-bucket/{upload_id}",
                "fields": {"key": f"uploads/{upload_id}/{body['filename']}", "policy": "e30="},
                "runwayUri": f"runway://uploads/{upload_id}",
            },
        )

    def _upload_file(self, request: Request) -> Reply:
        from tests.fakes.openai_api import _multipart

        upload_id = request.path.rsplit("/", 1)[-1]
        fields, files = _multipart(request)
        if "file" not in files or not fields.get("key", "").startswith(f"uploads/{upload_id}/"):
            return 400, {"Content-Type": "application/xml"}, b"<Error><Code>InvalidArgument</Code></Error>"
        self.uploads[f"runway://uploads/{upload_id}"] = files["file"]["data"]
        return 204, {}, b""

    # -- tasks --------------------------------------------------------------------------------

    def _create(self, request: Request, kind: str, check) -> Reply:
        try:
            body = request.json()
        except ValueError:
            return error(400, "Invalid JSON body")
        problem = check(body) if isinstance(body, dict) else "body must be an object"
        if problem:
            return json_reply(400, {"error": "Validation of body failed", "issues": [{"message": problem}]})
        if self.daily_cap is not None and self._created_today(body.get("model")) >= self.daily_cap:
            return error(
                429, f"You have reached the daily generation limit for {body.get('model')}. Try again tomorrow."
            )
        plan = self._take_plan(kind, body.get("seed"))
        if any(word in str(body.get("promptText", "")).lower() for word in MODERATED_WORDS):
            plan = Plan(kind, ["PENDING", "FAILED"], failure_code="INPUT_PREPROCESSING.SAFETY.TEXT")
        task = Task(
            str(uuid.uuid4()),
            kind,
            body,
            plan.statuses if plan else ["RUNNING", "SUCCEEDED"],
            plan.failure_code if plan else None,
            datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        )
        self.tasks[task.id] = task
        return json_reply(200, {"id": task.id})

    def _take_plan(self, kind: str, seed) -> Plan | None:
        with self._lock:
            for plan in self.plans:
                if plan.kind == kind and plan.times > 0 and plan.seed in (None, seed):
                    plan.times -= 1
                    return plan
        return None

    def _created_today(self, model) -> int:
        """The model's tasks created in the last 24 hours (every one here is)."""
        return sum(1 for t in list(self.tasks.values()) if t.body.get("model") == model)

    def credits(self, task: Task) -> int:
        model = task.body["model"]
        if task.kind == "text_to_image":
            return IMAGE_CREDITS[model]
        per_second = VIDEO_CREDITS_PER_SECOND[model]
        if model in AUDIO_CREDITS_PER_SECOND and task.body.get("audio", True):
            per_second = AUDIO_CREDITS_PER_SECOND[model]
        return per_second * int(task.body.get("duration", 5))

    def failed_cost(self, task: Task, code: str | None) -> int:
        """A failed task's cost: refunded (0) unless Runway keeps it."""
        return self.credits(task) if (code or "").startswith(NOT_REFUNDED) else 0

    def _admitted(self, task: Task) -> bool:
        """Whether the task holds a slot of its model's tier: slots go to the oldest waiting tasks
        as the running ones end."""
        if self.concurrency is None or task.admitted:
            return True
        with self._lock:
            model = task.body.get("model")
            same = [t for t in list(self.tasks.values()) if t.body.get("model") == model and not t.finished]
            running = sum(1 for t in same if t.admitted)
            for waiting in (t for t in same if not t.admitted):  # dicts keep the creation order
                if running >= self.concurrency:
                    break
                waiting.admitted, waiting.started, running = True, time.monotonic(), running + 1
        return task.admitted

    def _get(self, task_id: str) -> Reply:
        task = self.tasks.get(task_id)
        if not task:
            return error(404, "Task not found")
        if task.statuses != ["CANCELLED"] and not self._admitted(task):
            status = "THROTTLED"  # queued over the tier; its own statuses have not begun
        elif task.statuses != ["CANCELLED"] and time.monotonic() - task.started < self.task_seconds.get(task.kind, 0.0):
            status = "RUNNING"  # still running at the fake's pace; its planned statuses wait
        else:
            status = task.statuses[min(task.polls, len(task.statuses) - 1)]
            task.polls += 1
        task.history.append(status)
        obj = {"id": task.id, "createdAt": task.created_at, "status": status}
        if status in ("PENDING", "THROTTLED", "RUNNING"):
            obj["estimatedCost"] = {"credits": self.credits(task)}
            if status == "RUNNING":
                obj["progress"] = 0.5
        elif status == "SUCCEEDED":
            ext = "png" if task.kind == "text_to_image" else "mp4"
            obj.update(cost={"credits": self.credits(task)}, output=[f"{self.url}/outputs/{task.id}.{ext}"])
        elif status == "FAILED":
            code = "INTERNAL.BAD_OUTPUT.CODE01" if task.failure_code is None else task.failure_code
            obj.update(
                cost={"credits": self.failed_cost(task, code)},
                failure="The generation failed.",
                failureCode=code or None,
            )
        else:  # CANCELLED
            obj["cost"] = {"credits": 0}
        return json_reply(200, obj)

    def _output(self, request: Request) -> Reply:
        m = re.fullmatch(r"/outputs/([0-9a-f-]{36})\.(png|mp4)", request.path)
        task = self.tasks.get(m.group(1)) if m else None
        if not task:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        ratio = task.body["ratio"]
        if m.group(2) == "png":
            return 200, {"Content-Type": "image/png"}, png(ratio, int(task.body.get("seed", 0)))
        return 200, {"Content-Type": "video/mp4"}, mp4(ratio)
