"""A fake OpenAI API: `POST /v1/responses` (structured output), `POST /v1/audio/speech` and
`POST /v1/audio/transcriptions` (multipart: file, model, optional language/prompt/response_format;
replies `{"text", "usage"}` as json or the bare text as text).

It checks what the real API checks (the bearer key, the model, a strict JSON schema, the
speech parameters) and answers in the documented shapes: a Response object with `output`
messages of `output_text` and `usage`, and raw audio bytes of the asked format.
"""

from __future__ import annotations

import json
import math
import re
import struct
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from tests.fakes.http import FakeServer, Reply, Request, json_reply
from videobot.media import pcm_to_wav

API_KEY = "sk-test-fake-openai"
TTS_MODELS = {"gpt-4o-mini-tts", "tts-1", "tts-1-hd"}
VOICES = {
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
}
TRANSCRIBE_MODELS = {"gpt-transcribe", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "whisper-1"}
# Billed by the minute of audio (OpenAI's model pages, 2026-12-04: gpt-transcribe 0.0045 USD a
# minute): their `usage` is {type: "duration", seconds}; the others answer token usage.
BILLED_BY_DURATION = {"gpt-transcribe", "whisper-1"}
# OpenAI's shutdown dates (developers.openai.com/api/docs/deprecations, and the "Announced shutdown
# date" the SDK's model lists carry: openai 3.51 ChatModel, SpeechModel, AudioModel, the Realtime
# session's model; read 2026-12-04): from its shutdown date a model answers 404 model_not_found on
# every endpoint, the Realtime handshake included. The fake's `today` decides, so a test can stand
# on a day after a shutdown. functions/videobot/config.py MODELS must know every date here.
SHUTDOWNS = {
    "gpt-5": date(2026, 12, 11),
    "gpt-5-mini": date(2026, 12, 11),
    "gpt-5-nano": date(2026, 12, 11),
    "tts-1": date(2027, 1, 6),
    "tts-1-hd": date(2027, 1, 6),
    "gpt-4o-mini-tts": date(2027, 1, 6),
    "gpt-4.1-mini": date(2027, 1, 14),
    "gpt-4o-mini": date(2027, 1, 14),
    "gpt-realtime": date(2027, 1, 20),
    "gpt-realtime-mini": date(2027, 1, 20),
    "whisper-1": date(2027, 2, 26),
    "gpt-4o-transcribe": date(2027, 2, 26),
    "gpt-4o-mini-transcribe": date(2027, 2, 26),
}


def shutdown_error(model, today: date) -> dict | None:
    """OpenAI's error body for a model past its shutdown date, else None."""
    if isinstance(model, str) and model in SHUTDOWNS and SHUTDOWNS[model] <= today:
        return {
            "error": {
                "message": f"The model `{model}` has been deprecated, learn more here: "
                "https://platform.openai.com/docs/deprecations",
                "type": "invalid_request_error",
                "param": None,
                "code": "model_not_found",
            }
        }
    return None


# The file formats /v1/audio/transcriptions takes, by the upload's file name: the SDK's list (openai
# 3.51, AudioTranscriptionCreateParams.file: flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav, webm). Only
# whisper-1 also took `oga`; the newer models answer 400 "Unsupported file format oga"
# (unsupported_value, param file), which is what a Telegram voice note named file_N.oga meets.
TRANSCRIBE_FORMATS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "ogg", "wav", "webm")
WHISPER_FORMATS = (*TRANSCRIBE_FORMATS, "oga")
TRANSCRIBE_LIMIT = 25 * 1024 * 1024
AUDIO_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac", "pcm": "audio/pcm"}

RU_WORDS = [
    "утро",
    "начинается",
    "с",
    "чашки",
    "ароматного",
    "кофе",
    "и",
    "тёплого",
    "света",
    "на",
    "кухне",
    "зёрна",
    "обжаривают",
    "бережно",
    "чтобы",
    "раскрыть",
    "вкус",
    "и",
    "насыщенный",
    "глубокий",
    "аромат",
]
EN_WORDS = [
    "morning",
    "starts",
    "with",
    "a",
    "cup",
    "of",
    "fragrant",
    "coffee",
    "and",
    "warm",
    "light",
    "in",
    "the",
    "kitchen",
    "the",
    "beans",
    "are",
    "roasted",
    "with",
    "care",
    "to",
    "bring",
    "out",
    "a",
    "deep",
    "rich",
    "taste",
]


def error(status: int, message: str, code: str | None = None, kind: str = "invalid_request_error") -> Reply:
    return json_reply(status, {"error": {"message": message, "type": kind, "param": None, "code": code}})


def strict_schema_problems(schema, where: str = "schema") -> list[str]:
    """What strict structured output rejects: every object needs additionalProperties false
    and every property listed in required."""
    problems = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            props = schema.get("properties", {})
            if schema.get("additionalProperties") is not False:
                problems.append(f"{where}: additionalProperties must be false")
            if sorted(schema.get("required", [])) != sorted(props):
                problems.append(f"{where}: every property must be required")
            for name, sub in props.items():
                problems += strict_schema_problems(sub, f"{where}.{name}")
        if "items" in schema:
            problems += strict_schema_problems(schema["items"], f"{where}[]")
    return problems


def _is_cyrillic(text: str) -> bool:
    return len(re.findall(r"[\u0400-\u04FF]", text)) >= max(1, len(re.findall(r"[A-Za-z]", text)))


class FakeOpenAI(FakeServer):
    def __init__(self):
        super().__init__()
        self.replies: list = []  # queued output_text payloads (dict/list -> JSON, str -> raw)
        self.transcripts: list[str] = []  # queued transcriptions (default: a fixed Russian topic)
        self.audio_seconds: float | None = None  # the duration a minute-billed usage states (None: from the size)
        self.transcribed: list[dict] = []  # what each transcription request carried
        self.today: date = datetime.now(UTC).date()  # the day the fake stands on (SHUTDOWNS)
        self.disobedient_rewrites = 0  # see ignore_word_limit
        from tests.fakes.openai_realtime import FakeRealtime

        # the Realtime API (WebSocket), started with this fake and standing on the same day
        self.realtime = FakeRealtime(API_KEY, today=lambda: self.today)

    def start(self):
        self.realtime.start()
        return super().start()

    def stop(self) -> None:
        self.realtime.stop()
        super().stop()

    def shut_down(self, model) -> Reply | None:
        """OpenAI's answer to a model past its shutdown date."""
        gone = shutdown_error(model, self.today)
        return json_reply(404, gone) if gone else None

    def transcribe_next(self, text: str) -> None:
        """The next /v1/audio/transcriptions call hears this text."""
        self.transcripts.append(text)

    def ignore_word_limit(self, times: int = 1) -> None:
        """The next `times` narration rewrites ignore the word limit they are given, as a model
        may: each part loses only its last word."""
        self.disobedient_rewrites += times

    def reply_next(self, payload, *, status: str = "completed") -> None:
        """The next /v1/responses call answers with this content instead of a generated one."""
        self.replies.append((payload, status))

    # -- routing ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return error(401, "Incorrect API key provided.", "invalid_api_key")
        if request.route == "POST /v1/responses":
            return self._responses(request)
        if request.route == "POST /v1/audio/speech":
            return self._speech(request)
        if request.route == "POST /v1/audio/transcriptions":
            return _transcription(self, request)
        return error(404, f"Unknown request URL: {request.route}", "unknown_url")

    # -- /v1/responses ------------------------------------------------------------------------

    def _responses(self, request: Request) -> Reply:
        try:
            body = request.json()
        except ValueError:
            return error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body.get("model"), str) or not body["model"]:
            return error(400, "Missing required parameter: 'model'.", "missing_required_parameter")
        if self.shut_down(body["model"]):
            return self.shut_down(body["model"])
        user_input = body.get("input")
        if not isinstance(user_input, (str, list)) or not user_input:
            return error(400, "Missing required parameter: 'input'.", "missing_required_parameter")
        fmt = (body.get("text") or {}).get("format") or {}
        if fmt.get("type") != "json_schema" or not fmt.get("name") or not isinstance(fmt.get("schema"), dict):
            return error(400, "text.format must be a json_schema with a name and a schema", "invalid_value")
        if fmt.get("strict") is not True:
            return error(400, "this fake expects strict structured output", "invalid_value")
        problems = strict_schema_problems(fmt["schema"])
        if problems:
            return error(
                400,
                f"Invalid schema for response_format '{fmt['name']}': {problems[0]}",
                "invalid_json_schema",
            )
        text = user_input if isinstance(user_input, str) else json.dumps(user_input, ensure_ascii=False)
        if self.replies:
            payload, status = self.replies.pop(0)
        else:
            payload, status = self._generate(fmt["name"], text, fmt["schema"]), "completed"
        output_text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        return json_reply(200, self._response_object(body, text, output_text, status))

    def _response_object(self, body: dict, text: str, output_text: str, status: str) -> dict:
        input_tokens = len(text) // 4 + len(body.get("instructions") or "") // 4
        output_tokens = max(1, len(output_text) // 4)
        return {
            "id": f"resp_{uuid.uuid4().hex}",
            "object": "response",
            "created_at": int(time.time()),
            "status": status,
            "error": None,
            "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": body["model"] + "-2026-03-17",
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
            "store": body.get("store", True),
            "temperature": 1.0,
            "text": body["text"],
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "truncation": "disabled",
            "metadata": body.get("metadata") or {},
            "output": [
                {
                    "type": "message",
                    "id": f"msg_{uuid.uuid4().hex}",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": output_text, "annotations": [], "logprobs": []}],
                }
            ],
            "usage": {
                "input_tokens": input_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": input_tokens + output_tokens,
            },
        }

    def _generate(self, name: str, text: str, schema: dict):
        topic = text.split("Topic:", 1)[-1].split("\n", 1)[0].strip() if "Topic:" in text else text[:60]
        russian = _is_cyrillic(topic)
        if name == "video_script":
            words = RU_WORDS if russian else EN_WORDS
            segments = []
            for i in range(10):
                chunk = [words[(i * 3 + k) % len(words)] for k in range(10)]
                segments.append(" ".join(chunk).capitalize() + ".")
            segments[0] = f"{topic}: " + segments[0]
            return {"language": "ru" if russian else "en", "segments": segments}
        if name == "visual_prompts":
            return {
                "visual_style": "warm cinematic morning light, amber and cream palette",
                "shots": [
                    {
                        "image_prompt": f"Shot {i + 1}: a cosy cafe counter with fresh coffee, warm morning "
                        f"light, cinematic, high detail, no text",
                        "animation_prompt": f"Slow dolly in, steam rising gently, shot {i + 1}",
                    }
                    for i in range(10)
                ],
            }
        if name == "revised_prompts":  # as many as the schema demands, in English, 100-200 characters
            count = schema["properties"]["image_prompts"].get("maxItems", 1)
            listed = text.split("Image prompts to rewrite:", 1)[-1].strip().splitlines()
            shots = ([line.split(". ", 1)[-1] for line in listed if line.strip()] + [""] * count)[:count]
            return {
                "image_prompts": [
                    f"{shot[:120]}, reworked as the user asked, same warm cinematic world, no text" for shot in shots
                ]
            }
        if name == "revised_animation_prompts":  # as many as the schema demands, in English
            count = schema["properties"]["animation_prompts"].get("maxItems", 1)
            listed = text.split("Animation prompts to rewrite:", 1)[-1].strip().splitlines()
            motions = ([line.split(". ", 1)[-1] for line in listed if line.strip()] + [""] * count)[:count]
            return {"animation_prompts": [f"{m[:60]}, reworked as the user asked".strip(", ") for m in motions]}
        if name == "narration_rewrites":
            return {"parts": self._rewrites(text)}
        if name == "animation_prompts":
            # a model's output follows the strict schema: as many prompts as it demands
            count = schema["properties"]["animation_prompts"].get("maxItems", 10)
            listed = text.split("Image prompts:", 1)[-1].strip().splitlines() if "Image prompts:" in text else []
            shots = [line.split(". ", 1)[-1] for line in listed if line.strip()]
            shots = (shots + [""] * count)[:count]
            return {
                "animation_prompts": [
                    f"Gentle pan across the scene, soft light, for: {shot[:40]}".strip() for shot in shots
                ]
            }
        return {}

    def _rewrites(self, text: str) -> list[dict]:
        """Each part asked for ("Segment N (at most M words; ...): text"), kept to its first M
        words and ending a sentence; a disobedient rewrite only drops the last word."""
        asked = re.findall(r"^Segment (\d+) \(at most (\d+) words[^)]*\): (.+)$", text, re.MULTILINE)
        disobey = self.disobedient_rewrites > 0
        self.disobedient_rewrites -= disobey
        parts = []
        for number, limit, part in asked:
            words = part.split()
            keep = len(words) - 1 if disobey else int(limit)
            parts.append({"segment": int(number), "text": " ".join(words[:keep]).rstrip(".,;:!?") + "."})
        return parts

    # -- /v1/audio/speech ---------------------------------------------------------------------

    def _speech(self, request: Request) -> Reply:
        try:
            body = request.json()
        except ValueError:
            return error(400, "We could not parse the JSON body of your request.")
        if self.shut_down(body.get("model")):
            return self.shut_down(body.get("model"))
        if body.get("model") not in TTS_MODELS:
            return error(400, f"Invalid model: {body.get('model')!r}", "invalid_value")
        if body.get("voice") not in VOICES:
            return error(400, f"Invalid voice: {body.get('voice')!r}", "invalid_value")
        text = body.get("input")
        if not isinstance(text, str) or not 1 <= len(text) <= 4096:
            return error(400, "input must be 1-4096 characters", "string_above_max_length")
        if body.get("instructions") and body["model"] != "gpt-4o-mini-tts":
            return error(400, "instructions are not supported for this model", "unsupported_parameter")
        fmt = body.get("response_format", "mp3")
        if fmt not in AUDIO_TYPES:
            return error(400, f"this fake speaks {sorted(AUDIO_TYPES)}, not {fmt!r}", "invalid_value")
        return 200, {"Content-Type": AUDIO_TYPES[fmt]}, spoken(text, fmt)


def _multipart(request: Request) -> tuple[dict, dict]:
    """(fields, files) of a multipart/form-data body; files are {"filename", "data"}."""
    import email.parser
    import email.policy

    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return {}, {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.body
    )
    fields, files = {}, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[name] = {"filename": part.get_filename(), "data": payload}
        else:
            fields[name] = payload.decode()
    return fields, files


def _transcription(self: FakeOpenAI, request: Request) -> Reply:
    if len(request.body) > TRANSCRIBE_LIMIT:
        return error(413, f"Maximum content size limit ({TRANSCRIBE_LIMIT}) exceeded.", "file_too_large")
    fields, files = _multipart(request)
    if "file" not in files:
        return error(400, "Missing required parameter: 'file'.", "missing_required_parameter")
    if self.shut_down(fields.get("model")):
        return self.shut_down(fields.get("model"))
    if fields.get("model") not in TRANSCRIBE_MODELS:
        return error(400, f"Invalid model: {fields.get('model')!r}", "invalid_value")
    upload = files["file"]
    extension = upload["filename"].rsplit(".", 1)[-1].lower() if "." in upload["filename"] else ""
    formats = WHISPER_FORMATS if fields["model"] == "whisper-1" else TRANSCRIBE_FORMATS
    if extension not in formats:
        return json_reply(
            400,
            {
                "error": {
                    "message": f"Unsupported file format {extension or '(no extension)'}",
                    "type": "invalid_request_error",
                    "param": "file",
                    "code": "unsupported_value",
                }
            },
        )
    if not upload["data"]:
        return error(400, "The audio file is empty.", "invalid_value")
    fmt = fields.get("response_format", "json")
    allowed = ("json", "text", "verbose_json") if fields["model"] == "whisper-1" else ("json", "text")
    if fmt not in allowed:
        return error(
            400, f"response_format '{fmt}' is not compatible with model '{fields['model']}'.", "unsupported_value"
        )
    self.transcribed.append({**fields, "filename": upload["filename"], "size": len(upload["data"])})
    text = self.transcripts.pop(0) if self.transcripts else "Реклама кофе"
    if fmt == "text":
        return 200, {"Content-Type": "text/plain"}, text.encode()
    audio_tokens = max(1, len(upload["data"]) // 200)
    output_tokens = max(1, len(text) // 3)
    if fields["model"] in BILLED_BY_DURATION:  # billed per minute: usage says the audio's length
        seconds = self.audio_seconds if self.audio_seconds is not None else max(1.0, len(upload["data"]) / 4000)
        return json_reply(200, {"text": text, "usage": {"type": "duration", "seconds": seconds}})
    return json_reply(
        200,
        {
            "text": text,
            "usage": {
                "type": "tokens",
                "input_tokens": audio_tokens,
                "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
                "output_tokens": output_tokens,
                "total_tokens": audio_tokens + output_tokens,
            },
        },
    )


# The fakes' voice reads every word it is given, as a real one does (it never stops at the end of
# a 5-second segment): each word a burst of tone as long as the word, a short pause between words,
# and the silence a TTS engine leaves around its speech. So a test can count the words it hears.
SPEECH_LEAD = 0.15  # silence before the first word and after the last
WORD_GAP = 0.12  # silence between words: a word is one burst
_CYCLE = b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * i / 100))) for i in range(100))  # 240 Hz


def word_seconds(word: str) -> float:
    """How long the fakes' voice takes for one word: about 2.4 English words a second."""
    return 0.12 + 0.045 * len(word)


def speech_seconds(text: str) -> float:
    """The speech in what the fakes' voice says for `text`, without the silence around it."""
    words = text.split()
    return sum(word_seconds(w) for w in words) + WORD_GAP * max(0, len(words) - 1)


def _samples(seconds: float, rate: int) -> int:
    return round(seconds * rate)


def spoken(text: str, fmt: str, rate: int = 24000) -> bytes:
    """`text` read aloud by the fakes' voice: 16-bit mono PCM, as WAV, raw PCM, or via ffmpeg."""
    cycle = (
        _CYCLE
        if rate == 24000
        else b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 240 * i / rate))) for i in range(rate // 240))
    )
    silence = b"\0\0"
    chunks = [silence * _samples(SPEECH_LEAD, rate)]
    for i, word in enumerate(text.split()):
        if i:
            chunks.append(silence * _samples(WORD_GAP, rate))
        n = _samples(word_seconds(word), rate)
        chunks.append((cycle * (n * 2 // len(cycle) + 1))[: n * 2])
    chunks.append(silence * _samples(SPEECH_LEAD, rate))
    return encoded(b"".join(chunks), fmt, rate)


def encoded(pcm: bytes, fmt: str, rate: int = 24000) -> bytes:
    """16-bit mono PCM as raw PCM, WAV, or another format through ffmpeg."""
    if fmt == "pcm":
        return pcm
    wav = pcm_to_wav(pcm, rate)
    if fmt == "wav":
        return wav
    import imageio_ffmpeg

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.wav", Path(tmp) / f"out.{fmt}"
        src.write_bytes(wav)
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), str(out)],
            check=True,
            timeout=60,
        )
        return out.read_bytes()
