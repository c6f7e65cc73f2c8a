"""Runway's developer API through the official `runwayml` SDK: gen4_image stills
(`POST /v1/text_to_image`), gen4_turbo clips (`POST /v1/image_to_video`) and task polls
(`GET /v1/tasks/{id}`). The SDK sends `Authorization: Bearer` and `X-Runway-Version`.

Never paying twice:
- A create is retried here only when Runway surely did not start a task: 429 (over the rate
  or the daily cap) and 5xx, with backoff. A create that timed out may have started one, so
  it is not repeated (VendorFailed); the pipeline stores the task id before it polls.
- Polls are free and idempotent: the SDK retries them, and the state machine retries the
  stage on VendorUnavailable.
"""

from __future__ import annotations

import base64
import contextlib
import random
import time
from urllib.parse import unquote, urlparse

from videobot import media
from videobot.config import Settings
from videobot.errors import ConfigurationError, DailyCapReached, VendorFailed, VendorUnavailable
from videobot.observability import logger
from videobot.providers.base import ClipRequest, ImageRequest, TaskState

RATIOS = {"16:9": "1280:720", "9:16": "720:1280"}
REFERENCE_TAG = "opening"  # segment 0's image, cited as @opening
# Runway counts in its own units: a data URI of at most "5MB" (docs.dev.runwayml.com/assets/inputs:
# MB, so 5,000,000 bytes, not 5 MiB), and promptText "up to 1000 characters (measured in UTF-16
# code units)" (runwayml 5.24), where an emoji counts 2. Over either, the create answers 400.
MAX_DATA_URI_BYTES = 5_000_000
PROMPT_TEXT_UNITS = 1000
MAX_OUTPUT_BYTES = 300 * 1024 * 1024
# Credits (1 credit = 0.01 USD), from Runway's pricing page: an estimate recorded at submit
# time; the task's reported cost replaces it when the task ends.
# gen4_image_turbo: 2 credits at any resolution, and it requires referenceImages (Runway's API
# reference, text_to_image; pricing page, read 2026-12-02): segments 1-9 only, made from segment 0's.
IMAGE_CREDITS = {"gen4_image": {720: 5, 1080: 8}, "gen4_image_turbo": {720: 2, 1080: 2}}
# Per model: credits per second of clip, and the durations Runway accepts. veo3.1_fast takes 4,
# 6 or 8 s only: a 5 s segment is generated at 6 s and trimmed (media.prepare_segment).
VIDEO_MODELS = {
    "gen4_turbo": {"credits_per_second": 5, "durations": (5, 10)},
    "gen4.5": {"credits_per_second": 12, "durations": tuple(range(2, 11))},
    # veo3.1_fast: 10 credits/s without audio, 15 with; the bot discards a clip's audio, so it
    # asks for none (`audio: false`, submit) and this is what it pays.
    "veo3.1_fast": {"credits_per_second": 10, "durations": (4, 6, 8), "audio": False},
}
VIDEO_CREDITS_PER_SECOND = {name: spec["credits_per_second"] for name, spec in VIDEO_MODELS.items()}


def video_model(name: str) -> dict:
    """The model's price and durations; a model without a price here is refused, never billed
    as 0 (config.check_models refuses it at start-up already)."""
    spec = VIDEO_MODELS.get(name)
    if spec is None:
        raise ConfigurationError(f"Runway video model {name!r} has no price here ({', '.join(VIDEO_MODELS)})")
    return spec


def image_credits(name: str, ratio: str) -> int:
    """Credits of one image at the ratio's resolution (720p or 1080p); unknown models raise."""
    prices = IMAGE_CREDITS.get(name)
    if prices is None:
        raise ConfigurationError(f"Runway image model {name!r} has no price here ({', '.join(IMAGE_CREDITS)})")
    return prices[min(int(x) for x in RATIOS[ratio].split(":"))]


def clip_seconds(model: str, wanted: float) -> int:
    """The shortest duration the model accepts that covers `wanted` seconds."""
    durations = video_model(model)["durations"]
    return next((d for d in durations if d >= wanted), durations[-1])


def prompt_text(text: str, limit: int = PROMPT_TEXT_UNITS) -> str:
    """The text cut to at most `limit` UTF-16 code units, never inside a character."""
    units = 0
    for end, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:end]
    return text


def _client(settings: Settings):
    import runwayml

    if not settings.runway.api_secret:
        raise ConfigurationError("RUNWAYML_API_SECRET is not set")
    return runwayml.RunwayML(
        api_key=settings.runway.api_secret,
        base_url=settings.runway.base_url or None,
        runway_version=settings.runway.api_version,
        timeout=settings.runway.timeout_seconds,
        max_retries=settings.runway.max_retries,
    )


def _sniff_mime(data: bytes) -> str:
    kind = media.image_type(data)
    if kind is None:
        raise VendorFailed("the image to send to Runway is not a PNG, JPEG or WebP")
    return media.IMAGE_TYPES[kind]


def data_uri(data: bytes) -> str | None:
    """A base64 data URI of an image, or None when it would not be under Runway's 5 MB (5,000,000 bytes)."""
    uri = f"data:{_sniff_mime(data)};base64," + base64.b64encode(data).decode("ascii")
    return uri if len(uri) < MAX_DATA_URI_BYTES else None


def read_image(url: str) -> bytes:
    """The bytes behind a storage URL: a file:// path locally, an http(s) GET otherwise (a
    presigned S3 GET on AWS answers GET, though not the HEAD Runway would send)."""
    scheme = urlparse(url).scheme
    if scheme == "file":
        with open(unquote(urlparse(url).path), "rb") as fh:
            return fh.read()
    if scheme in ("http", "https"):
        import requests

        try:
            reply = requests.get(url, timeout=30)
        except requests.RequestException as exc:
            raise VendorUnavailable(f"the image for Runway could not be read ({type(exc).__name__})") from None
        if reply.status_code != 200:
            raise VendorFailed(f"the image for Runway could not be read (HTTP {reply.status_code})")
        return reply.content
    if scheme == "data":
        return base64.b64decode(url.split(",", 1)[1])
    raise VendorFailed(f"Runway cannot read a {scheme}:// image")


def image_input(url: str, client=None) -> str:
    """What Runway can surely read: never our storage URL (Runway sends a HEAD, which a
    presigned S3 GET answers with 403; boto3's global host may redirect; a URL signed with a
    Lambda session token nears the 2048-character limit). The image goes inline as a data URI
    under 5 MB, else as an ephemeral upload through the SDK (a runway:// URI)."""
    data = read_image(url)
    uri = data_uri(data)
    if uri is not None:
        return uri
    if client is None:
        raise VendorFailed("the image is over Runway's 5 MB data URI limit")
    import runwayml

    extension = media.image_type(data) or "png"
    try:
        return client.uploads.create_ephemeral(file=(f"image.{extension}", data)).uri
    except (runwayml.RateLimitError, runwayml.InternalServerError, runwayml.APIConnectionError) as exc:
        raise VendorUnavailable(f"Runway upload: {type(exc).__name__}") from None
    except runwayml.APIStatusError as exc:
        raise VendorFailed(f"Runway upload: HTTP {exc.status_code} {_message(exc)}") from None


class _RunwayTasks:
    kind = "task"

    def __init__(self, settings: Settings, client=None):
        self.settings = settings
        self.client = client or _client(self.settings)

    def _create(self, resource: str, deadline: float | None = None, **params) -> str:
        """Start a task; retry only where Runway surely started nothing (429, 5xx). An attempt
        starts only when a whole request timeout fits before `deadline`: a create cut short by
        the Lambda's end might have started a task nobody knows of."""
        import runwayml

        attempts = self.settings.runway.max_retries + 1
        timeout = self.settings.runway.timeout_seconds
        creator = getattr(self.client.with_options(max_retries=0), resource)
        for attempt in range(attempts):
            if deadline is not None and time.monotonic() + timeout > deadline:
                raise VendorUnavailable(
                    f"Runway {self.kind}: no time left in this invocation for a create "
                    f"(try {attempt + 1} of {attempts}); nothing was started"
                )
            try:
                return self._create_once(creator, params)
            except (runwayml.RateLimitError, runwayml.InternalServerError) as exc:
                if isinstance(exc, runwayml.RateLimitError) and "daily" in _message(exc).lower():
                    # the model's generations of the day are used up: no retry helps today
                    raise DailyCapReached(str(params.get("model")), 0, 0, 1) from None
                time.sleep(self._retry_delay(exc, attempt, attempts, deadline, timeout))
        raise AssertionError("unreachable")

    def _create_once(self, creator, params: dict) -> str:
        """One create: the task's id. A 429 or a 5xx is raised as it is, for `_create` to retry."""
        import runwayml

        try:
            task = creator.create(**params)
        except (runwayml.RateLimitError, runwayml.InternalServerError):
            raise
        except runwayml.APITimeoutError:
            failed = VendorFailed(f"Runway {self.kind}: the create timed out; not repeated, it may have started a task")
            failed.may_have_spent = True  # type: ignore[attr-defined]  # its reservation stays counted
            raise failed from None
        except runwayml.APIConnectionError:
            raise VendorUnavailable(f"Runway {self.kind}: cannot connect") from None
        except runwayml.APIStatusError as exc:
            raise VendorFailed(f"Runway {self.kind}: HTTP {exc.status_code} {_message(exc)}") from None
        except (runwayml.RunwayMLError, ValueError) as exc:
            raise VendorFailed(f"Runway {self.kind}: malformed reply ({type(exc).__name__})") from None
        task_id = getattr(task, "id", None)
        if not task_id:
            raise VendorFailed(f"Runway {self.kind}: the reply has no task id")
        return task_id

    def _retry_delay(self, exc, attempt: int, attempts: int, deadline: float | None, timeout: float) -> float:
        """How long to wait before trying a create Runway refused (429, 5xx) again: its
        Retry-After, else a jittered backoff; none when no try or no time is left."""
        if attempt + 1 >= attempts:
            raise VendorUnavailable(f"Runway {self.kind}: HTTP {exc.status_code} after {attempts} tries") from None
        delay = _retry_after(exc)
        if delay is None:
            delay = min(8.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)
        if deadline is not None and time.monotonic() + delay + timeout > deadline:
            raise VendorUnavailable(
                f"Runway {self.kind}: HTTP {exc.status_code}, and no time left in this invocation to wait and try again"
            ) from None
        logger.warning("Runway create retried", extra={"kind": self.kind, "status": exc.status_code})
        return delay

    def get_task(self, task_id: str) -> TaskState:
        import runwayml

        try:
            task = self.client.tasks.retrieve(task_id)
        except runwayml.NotFoundError:
            raise VendorFailed(f"Runway {self.kind}: task not found") from None
        except (runwayml.RateLimitError, runwayml.InternalServerError, runwayml.APIConnectionError) as exc:
            raise VendorUnavailable(f"Runway poll: {type(exc).__name__} after retries") from None
        except runwayml.APIStatusError as exc:
            raise VendorFailed(f"Runway poll: HTTP {exc.status_code} {_message(exc)}") from None
        except (runwayml.RunwayMLError, ValueError) as exc:  # a malformed reply: polling again is free
            raise VendorUnavailable(f"Runway poll: malformed reply ({type(exc).__name__})") from None
        status = getattr(task, "status", None)
        if status not in ("PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"):
            raise VendorUnavailable(f"Runway poll: unknown status {status!r}")
        output = getattr(task, "output", None) or []
        if status == "SUCCEEDED" and not output:
            raise VendorFailed(f"Runway {self.kind}: succeeded without an output")
        cost = getattr(task, "cost", None) or getattr(task, "estimated_cost", None)
        return TaskState(
            status=status,
            output_url=output[0] if output else None,
            failure=getattr(task, "failure", None),
            failure_code=getattr(task, "failure_code", None),
            progress=getattr(task, "progress", None),
            credits=getattr(cost, "credits", None) if cost is not None else None,
        )

    def fetch_output(self, url: str) -> bytes:
        """Download an output at once: Runway's URLs expire in 24-48 h. The URL is never logged."""
        import requests

        try:
            with requests.get(url, timeout=(10, 120), stream=True) as reply:
                if reply.status_code >= 500 or reply.status_code == 429:
                    raise VendorUnavailable(f"Runway output: HTTP {reply.status_code}")
                if reply.status_code != 200:
                    raise VendorFailed(f"Runway output: HTTP {reply.status_code}")
                chunks, size = [], 0
                for chunk in reply.iter_content(1 << 20):
                    size += len(chunk)
                    if size > MAX_OUTPUT_BYTES:
                        raise VendorFailed("Runway output is too large")
                    chunks.append(chunk)
                return b"".join(chunks)
        except requests.RequestException as exc:
            raise VendorUnavailable(f"Runway output: {type(exc).__name__}") from None

    def cancel(self, task_id: str) -> None:
        """`DELETE /v1/tasks/{id}`: cancel a running task, or delete a finished one."""
        import runwayml

        with contextlib.suppress(runwayml.NotFoundError):
            self.client.with_options(max_retries=0).tasks.delete(task_id)  # one try: lifecycle bounds the stops


class RunwayImageGenerator(_RunwayTasks):
    kind = "image"

    def model_for(self, request: ImageRequest) -> str:
        """gen4_image_turbo requires reference images: only segments made from segment 0's image."""
        s = self.settings
        return s.runway.reference_image_model if request.reference_image_url else s.runway.image_model

    def submit(self, request: ImageRequest) -> str:
        params = {
            "model": self.model_for(request),
            "prompt_text": prompt_text(request.prompt),
            "ratio": RATIOS[request.ratio],
            "seed": request.seed,
        }
        if request.reference_image_url:
            prompt = request.prompt
            if f"@{REFERENCE_TAG}" not in prompt:
                prompt = f"Same subject, palette and style as @{REFERENCE_TAG}. {prompt}"
            params["prompt_text"] = prompt_text(prompt)
            params["reference_images"] = [
                {"uri": image_input(request.reference_image_url, self.client), "tag": REFERENCE_TAG}
            ]
        return self._create("text_to_image", request.deadline, **params)

    def estimate(self, request: ImageRequest) -> dict:
        model = self.model_for(request)
        return {"vendor": "runway", "model": model, "seconds": 0, "credits": image_credits(model, request.ratio)}


class RunwayClipGenerator(_RunwayTasks):
    kind = "video"

    def model_for(self, request: ClipRequest) -> str:
        return request.model or self.settings.runway.video_model

    def submit(self, request: ClipRequest) -> str:
        model = self.model_for(request)
        return self._create(
            "image_to_video",
            request.deadline,
            model=model,
            prompt_image=image_input(request.image_url, self.client),
            prompt_text=prompt_text(request.prompt),
            ratio=RATIOS[request.ratio],
            duration=clip_seconds(model, request.duration),
            seed=request.seed,
            **({"audio": False} if "audio" in video_model(model) else {}),
        )

    def estimate(self, request: ClipRequest) -> dict:
        """What Runway bills: the generated seconds (6 for a 5 s segment on veo3.1_fast)."""
        model = self.model_for(request)
        seconds = clip_seconds(model, request.duration)
        return {
            "vendor": "runway",
            "model": model,
            "seconds": seconds,
            "credits": video_model(model)["credits_per_second"] * seconds,
        }


def _retry_after(exc) -> float | None:
    """The server's Retry-After (seconds) or retry-after-ms, when sane."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            value = float(headers.get(name, "")) * scale
        except (TypeError, ValueError):
            continue
        if 0 <= value <= 30:
            return value
    return None


def _message(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])[:300]
    return ""
