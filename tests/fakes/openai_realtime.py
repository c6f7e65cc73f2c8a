"""A fake of OpenAI's Realtime API over WebSocket (`wss://api.openai.com/v1/realtime?model=...`),
speaking its event protocol as the API reference documents it (platform.openai.com/docs/
api-reference/realtime-client-events and -server-events, read 2026-12-02):

- the handshake carries `Authorization: Bearer` and `?model=` (a Realtime model; the speech
  models of /v1/audio/speech are not accepted here, nor a model past its shutdown date: 404
  model_not_found, as the REST endpoints answer);
- the server opens with `session.created`; `session.update` (type "realtime", a built-in realtime
  voice, output_modalities ["audio"], an output format audio/pcm at 24 kHz, audio/pcmu or
  audio/pcma) answers `session.updated`;
- `conversation.item.create` (a user message of input_text) answers `conversation.item.added`;
- `response.create` streams `response.created`, `response.output_audio.delta` (base64 audio),
  `response.output_audio_transcript.delta`, `response.output_audio.done`,
  `response.output_audio_transcript.done` (the whole transcript) and `response.done`;
- a bad event answers an `error` event and the connection stays open.

It is a voice model: it may reword. `reword_next(text)` makes the next response say `text`.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import UTC, datetime

from websockets.datastructures import Headers
from websockets.http11 import Response
from websockets.sync.server import serve

REALTIME_MODELS = {"gpt-realtime-2.1-mini", "gpt-realtime", "gpt-realtime-mini"}
REALTIME_VOICES = {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"}
OUTPUT_FORMATS = {"audio/pcm", "audio/pcmu", "audio/pcma"}
RATE = 24000


def _event(kind: str, **fields) -> str:
    return json.dumps({"type": kind, "event_id": f"event_{uuid.uuid4().hex[:20]}", **fields})


def _error(message: str, code: str = "invalid_value", param: str | None = None, event_id=None) -> str:
    return _event(
        "error",
        error={"type": "invalid_request_error", "code": code, "message": message, "param": param, "event_id": event_id},
    )


class FakeRealtime:
    def __init__(self, api_key: str, today=None):
        self.api_key = api_key
        self.today = today or (lambda: datetime.now(UTC).date())  # the day the fake stands on
        self.rewordings: list[str] = []
        self.sessions: list[dict] = []  # each connection's model, session and client events
        self.url = ""
        self._server = None
        self._lock = threading.Lock()

    def reword_next(self, text: str, times: int = 1) -> None:
        self.rewordings.extend([text] * times)

    def _handshake(self, connection, request):
        auth = request.headers.get("Authorization", "")
        model = request.path.split("model=", 1)[-1].split("&", 1)[0] if "model=" in request.path else ""
        if not request.path.startswith("/v1/realtime"):
            return self._reject(404, "Not found")
        if auth != f"Bearer {self.api_key}":
            return self._reject(401, "Incorrect API key provided.")
        if model not in REALTIME_MODELS:
            return self._reject(400, f"Invalid model: {model!r} is not a Realtime model.")
        from tests.fakes.openai_api import shutdown_error

        gone = shutdown_error(model, self.today())
        if gone:
            return self._reject(404, gone["error"]["message"], gone)
        return None

    @staticmethod
    def _reject(status: int, message: str, error: dict | None = None) -> Response:
        body = json.dumps(error or {"error": {"message": message, "type": "invalid_request_error"}}).encode()
        return Response(
            status,
            "Rejected",
            Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))]),
            body,
        )

    def _serve(self, ws) -> None:
        model = ws.request.path.split("model=", 1)[-1].split("&", 1)[0]
        record = {"model": model, "session": {}, "events": []}
        with self._lock:
            self.sessions.append(record)
        session = record["session"]
        session.update(
            {
                "id": f"sess_{uuid.uuid4().hex[:20]}",
                "type": "realtime",
                "model": model,
                "output_modalities": ["audio"],
                "audio": {"output": {"voice": "marin", "format": {"type": "audio/pcm", "rate": RATE}}},
            }
        )
        ws.send(_event("session.created", session=session))
        items: list[str] = []
        for raw in ws:
            try:
                event = json.loads(raw)
            except ValueError:
                ws.send(_error("The event is not valid JSON.", "invalid_json"))
                continue
            record["events"].append(event)
            kind = event.get("type")
            if kind == "session.update":
                problem = self._session_problem(event.get("session") or {})
                if problem:
                    ws.send(_error(problem, param="session", event_id=event.get("event_id")))
                    continue
                new = event["session"]
                session.update({k: v for k, v in new.items() if k != "audio"})
                session["audio"]["output"].update((new.get("audio") or {}).get("output") or {})
                ws.send(_event("session.updated", session=session))
            elif kind == "conversation.item.create":
                item = event.get("item") or {}
                content = item.get("content") or []
                texts = [c.get("text") for c in content if isinstance(c, dict) and c.get("type") == "input_text"]
                if item.get("type") != "message" or item.get("role") != "user" or not texts or not all(texts):
                    ws.send(_error("item must be a user message of input_text", param="item"))
                    continue
                items.append(" ".join(texts))
                ws.send(
                    _event(
                        "conversation.item.added",
                        previous_item_id=None,
                        item={**item, "id": f"item_{uuid.uuid4().hex[:20]}", "status": "completed"},
                    )
                )
            elif kind == "response.create":
                if not items:
                    ws.send(_error("There is nothing in the conversation to respond to.", "no_input"))
                    continue
                self._respond(ws, session, items[-1])
            else:
                ws.send(_error(f"Invalid event type: {kind!r}", "invalid_event_type", "type"))

    @staticmethod
    def _session_problem(session: dict) -> str | None:
        if session.get("type") != "realtime":
            return "session.type must be 'realtime'"
        if "output_modalities" in session and session["output_modalities"] not in (["audio"], ["text"]):
            return "output_modalities must be ['audio'] or ['text']"
        output = (session.get("audio") or {}).get("output") or {}
        if "voice" in output and output["voice"] not in REALTIME_VOICES:
            return f"Invalid voice: {output['voice']!r}; supported: {sorted(REALTIME_VOICES)}"
        fmt = output.get("format")
        if fmt is not None:
            if fmt.get("type") not in OUTPUT_FORMATS:
                return f"Invalid audio format: {fmt.get('type')!r}"
            if fmt.get("type") == "audio/pcm" and fmt.get("rate", RATE) != RATE:
                return "audio/pcm is 24000 Hz only"
        return None

    def _respond(self, ws, session: dict, asked: str) -> None:
        from tests.fakes.openai_api import spoken

        with self._lock:
            said = self.rewordings.pop(0) if self.rewordings else asked
        response_id, item_id = f"resp_{uuid.uuid4().hex[:20]}", f"item_{uuid.uuid4().hex[:20]}"
        ws.send(
            _event(
                "response.created",
                response={"id": response_id, "object": "realtime.response", "status": "in_progress", "output": []},
            )
        )
        pcm = spoken(said, "pcm", RATE)
        step = RATE * 2 // 5  # 200 ms of 16-bit mono per delta
        ids = {"response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0}
        for start in range(0, len(pcm), step):
            ws.send(
                _event("response.output_audio.delta", delta=base64.b64encode(pcm[start : start + step]).decode(), **ids)
            )
        for word in said.split():
            ws.send(_event("response.output_audio_transcript.delta", delta=word + " ", **ids))
        ws.send(_event("response.output_audio.done", **ids))
        ws.send(_event("response.output_audio_transcript.done", transcript=said, **ids))
        audio_tokens, text_tokens = len(pcm) // 960, max(1, len(asked) // 4)
        ws.send(
            _event(
                "response.done",
                response={
                    "id": response_id,
                    "object": "realtime.response",
                    "status": "completed",
                    "status_details": None,
                    "output": [
                        {
                            "id": item_id,
                            "type": "message",
                            "role": "assistant",
                            "status": "completed",
                            "content": [{"type": "output_audio", "transcript": said}],
                        }
                    ],
                    "usage": {
                        "total_tokens": audio_tokens + text_tokens * 2,
                        "input_tokens": text_tokens,
                        "output_tokens": audio_tokens + text_tokens,
                        "input_token_details": {"text_tokens": text_tokens, "audio_tokens": 0},
                        "output_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
                    },
                },
            )
        )

    def start(self) -> FakeRealtime:
        self._server = serve(self._serve, "127.0.0.1", 0, process_request=self._handshake, max_size=None)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server = None
