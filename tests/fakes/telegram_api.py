"""A fake Telegram Bot API server (https://core.telegram.org/bots/api), on 127.0.0.1.

Requests: `POST|GET {base}/bot{token}/{method}` with parameters as a query string,
application/x-www-form-urlencoded, application/json or multipart/form-data (files). Replies:
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": "..."}`, with
`"parameters": {"retry_after": N}` on 429. It records every call and enforces the documented
limits: callback_data 1-64 bytes, sendMediaGroup 2-10 items, text 1-4096 characters,
caption 0-1024, multipart uploads 50 MB, a wrong token 401. `getUpdates` serves queued updates.
`getFile` answers a File (file_id, file_unique_id, file_size, file_path) for files a test put in
with `add_file`, refusing files over 20 MB ("file is too big"), and the file's bytes are served at
`GET {base}/file/bot{token}/{file_path}`, as the Bot API does."""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, unquote, urlparse

from tests.fakes.http import BurstServer

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
UPLOAD_LIMIT = 50_000_000  # sendVideo by multipart upload: "50 MB"
DOWNLOAD_LIMIT = 20_000_000  # getFile: "bots can download files of up to 20MB in size" (MB, not MiB)
BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Video Bot",
    "username": "fake_video_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class BotApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class Call:
    method: str
    params: dict
    files: dict = field(default_factory=dict)  # field name -> {"filename", "size", "content_type"}
    result: object = None
    error_code: int | None = None  # set when the fake answered this call with an error

    def text(self) -> str:
        return self.params.get("text") or self.params.get("caption") or ""


class _Handler(BaseHTTPRequestHandler):
    """The Bot API over HTTP, answered by `fake` (each FakeTelegram serves its own subclass)."""

    fake: FakeTelegram
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # keep-alive replies would wait ~40 ms for a delayed ACK

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def _handle(self):
        url = urlparse(self.path)
        parts = url.path.strip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(parts) >= 3 and parts[0] == "file" and parts[1].startswith("bot"):
            # clients percent-encode the path (the token's ":" too), as URLs allow
            return self._download(unquote(parts[1][3:]), unquote("/".join(parts[2:])))
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if parts[0][3:] != self.fake.token:
            return self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        try:
            params, files = _parse(self.headers.get("Content-Type", ""), body, url.query)
            result = self.fake._dispatch(parts[1], params, files)
        except BotApiError as exc:
            reply = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                reply["parameters"] = {"retry_after": exc.retry_after}
            return self._reply(exc.code, reply)
        return self._reply(200, {"ok": True, "result": result})

    def _download(self, token: str, file_path: str):
        if token != self.fake.token:
            return self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        found = next((f for f in list(self.fake.files.values()) if f["file_path"] == file_path), None)
        if found is None:
            return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        with self.fake._lock:
            self.fake.calls.append(Call("downloadFile", {"file_path": file_path}, result=len(found["data"])))
            self.fake._lock.notify_all()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(found["data"])))
        self.end_headers()
        self.wfile.write(found["data"])

    def _reply(self, status: int, payload: dict):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeTelegram:
    def __init__(self, token: str = "123456:TEST-token"):
        self.token = token
        self.calls: list[Call] = []
        self.updates: list[dict] = []
        self._failures: list[tuple[str, int, str, int | None]] = []
        self._message_id = 100
        self.files: dict[str, dict] = {}  # file_id -> {"data", "file_path", "file_size"}
        self._lock = threading.Condition()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = BurstServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="fake-telegram", daemon=True)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- test controls ----------------------------------------------------------------------

    def fail_next(
        self, method: str, code: int = 429, description: str | None = None, retry_after: int | None = None
    ) -> None:
        """The next call of `method` fails with this error (429 carries retry_after)."""
        if code == 429 and retry_after is None:
            retry_after = 1
        description = description or (
            f"Too Many Requests: retry after {retry_after}"
            if code == 429
            else {
                500: "Internal Server Error",
                502: "Bad Gateway",
                400: "Bad Request",
                403: "Forbidden: bot was blocked by the user",
            }.get(code, "Error")
        )
        with self._lock:
            self._failures.append((method, code, description, retry_after))

    def add_file(
        self, file_id: str, data: bytes, *, file_path: str | None = None, file_size: int | None = None
    ) -> None:
        """A file users sent (a voice note): getFile finds it and its bytes can be downloaded.
        `file_size` may claim more than `data` holds (to test the 20 MB limit cheaply)."""
        with self._lock:
            self.files[file_id] = {
                "data": data,
                "file_size": len(data) if file_size is None else file_size,
                "file_path": file_path or f"voice/file_{len(self.files)}.oga",
            }

    def push_update(self, update: dict) -> None:
        with self._lock:
            self.updates.append(update)
            self._lock.notify_all()

    def calls_to(self, *methods: str, chat_id: int | None = None, failed: bool = False) -> list[Call]:
        """Calls the fake answered with ok (or, with failed=True, with an error)."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method in methods
                and (c.error_code is not None) == failed
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
            ]

    def wait_for(self, predicate, timeout: float = 60, what: str = "a call") -> Call:
        """Wait until a recorded call satisfies `predicate`; return it."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for c in self.calls:
                    if c.error_code is None and predicate(c):
                        return c
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.text()[:60]) for c in self.calls[-15:]]
                    raise AssertionError(f"timed out waiting for {what}; last calls: {seen}")
                self._lock.wait(min(left, 0.2))

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.updates.clear()
            self.files.clear()
            self._failures.clear()

    # -- the Bot API ------------------------------------------------------------------------

    def _dispatch(self, method: str, params: dict, files: dict):
        with self._lock:
            for i, (name, code, description, retry_after) in enumerate(self._failures):
                if name == method:
                    del self._failures[i]
                    self.calls.append(Call(method, params, files, error_code=code))
                    self._lock.notify_all()
                    raise BotApiError(code, description, retry_after)
        if method == "getUpdates":
            return self._get_updates(params)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            raise BotApiError(404, "Not Found: method not found")
        for info in files.values():
            if info["size"] > UPLOAD_LIMIT:
                raise BotApiError(413, "Request Entity Too Large")
        try:
            _check_markup(params.get("reply_markup"))
            result = handler(params, files)
        except BotApiError as exc:  # recorded too, as a failed call
            with self._lock:
                self.calls.append(Call(method, params, files, error_code=exc.code))
                self._lock.notify_all()
            raise
        with self._lock:
            self.calls.append(Call(method, params, files, result))
            self._lock.notify_all()
        return result

    def _next_id(self) -> int:
        with self._lock:
            self._message_id += 1
            return self._message_id

    def _message(self, params: dict, **content) -> dict:
        return {
            "message_id": self._next_id(),
            "date": int(time.time()),
            "from": BOT_USER,
            "chat": {"id": _chat_id(params), "type": "private"},
            **content,
        }

    def _m_getMe(self, params, files):
        return BOT_USER

    def _m_setWebhook(self, params, files):
        _required(params, "url")
        return True

    def _m_deleteWebhook(self, params, files):
        return True

    def _m_sendMessage(self, params, files):
        text = _required(params, "text")
        if not 1 <= len(text) <= TEXT_LIMIT:
            raise BotApiError(400, "Bad Request: message is too long" if text else "Bad Request: message text is empty")
        extra = (
            {"reply_markup": params["reply_markup"]}
            if isinstance(params.get("reply_markup"), dict) and "inline_keyboard" in params["reply_markup"]
            else {}
        )
        return self._message(params, text=text, **extra)

    def _caption(self, params):
        if len(params.get("caption") or "") > CAPTION_LIMIT:
            raise BotApiError(400, "Bad Request: message caption is too long")

    def _file(self, params: dict, files: dict, name: str) -> dict:
        value = _required(params, name, files)
        if isinstance(value, str) and value.startswith("attach://"):
            value = files.get(value[len("attach://") :])
            if value is None:
                raise BotApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return value if isinstance(value, dict) else {"file_id": value, "size": 0}

    def _m_sendPhoto(self, params, files):
        self._caption(params)
        info = self._file(params, files, "photo")
        return self._message(params, photo=[_photo_size(info)], caption=params.get("caption"))

    def _m_sendVideo(self, params, files):
        self._caption(params)
        info = self._file(params, files, "video")
        return self._message(params, video=_video(info, params), caption=params.get("caption"))

    def _m_sendMediaGroup(self, params, files):
        media = _required(params, "media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise BotApiError(400, "Bad Request: media group must include 2-10 items")
        messages, group = [], str(self._next_id())
        for item in media:
            if len(item.get("caption") or "") > CAPTION_LIMIT:
                raise BotApiError(400, "Bad Request: message caption is too long")
            info = self._file({"chat_id": params["chat_id"], "media": item["media"]}, files, "media")
            kind = item.get("type")
            if kind == "photo":
                content = {"photo": [_photo_size(info)]}
            elif kind == "video":
                content = {"video": _video(info, item)}
            else:
                raise BotApiError(400, f"Bad Request: unsupported media type {kind!r}")
            messages.append(self._message(params, media_group_id=group, caption=item.get("caption"), **content))
        return messages

    def _m_answerCallbackQuery(self, params, files):
        _required(params, "callback_query_id")
        if len(params.get("text") or "") > 200:
            raise BotApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _m_editMessageReplyMarkup(self, params, files):
        message_id = _required(params, "message_id")
        return {
            "message_id": int(message_id),
            "date": int(time.time()),
            "from": BOT_USER,
            "chat": {"id": _chat_id(params), "type": "private"},
            "edit_date": int(time.time()),
            "text": "…",
        }

    def _m_editMessageText(self, params, files):
        text = _required(params, "text")
        if not 1 <= len(text) <= TEXT_LIMIT:
            raise BotApiError(400, "Bad Request: message is too long")
        return {
            "message_id": int(_required(params, "message_id")),
            "date": int(time.time()),
            "from": BOT_USER,
            "chat": {"id": _chat_id(params), "type": "private"},
            "text": text,
            "edit_date": int(time.time()),
        }

    def _m_getFile(self, params, files):
        file_id = _required(params, "file_id")
        found = self.files.get(file_id)
        if found is None:
            raise BotApiError(400, "Bad Request: invalid file_id")
        if found["file_size"] > DOWNLOAD_LIMIT:
            raise BotApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id[-8:]}",
            "file_size": found["file_size"],
            "file_path": found["file_path"],
        }

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, 5)
        with self._lock:
            self.calls.append(Call("getUpdates", params))
            while True:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                if self.updates or time.monotonic() >= deadline:
                    return list(self.updates[: int(params.get("limit") or 100)])
                self._lock.wait(deadline - time.monotonic())


# ---- request parsing ----------------------------------------------------------------------


def _decode(value: str):
    """Bot API clients send objects (reply_markup, media) as JSON strings in form fields."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _parse(content_type: str, body: bytes, query: str) -> tuple[dict, dict]:
    params = {k: _decode(v) for k, v in parse_qsl(query)}
    files: dict = {}
    if content_type.startswith("application/json") and body:
        params.update(json.loads(body))
    elif content_type.startswith("application/x-www-form-urlencoded") and body:
        params.update({k: _decode(v) for k, v in parse_qsl(body.decode())})
    elif content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                files[name] = {
                    "filename": filename,
                    "size": len(payload),
                    "content_type": part.get_content_type(),
                    "data": payload,
                }
                params[name] = f"attach://{name}"
            else:
                params[name] = _decode(payload.decode())
    return params, files


def _required(params: dict, name: str, files: dict | None = None):
    if name in params and params[name] not in (None, ""):
        return files[name] if files and name in files and params[name] == f"attach://{name}" else params[name]
    raise BotApiError(400, f"Bad Request: {name} is empty" if name != "chat_id" else "Bad Request: chat not found")


def _chat_id(params: dict) -> int:
    """The Bot API's chat_id: an integer (a @channel name is not a private chat); anything else
    (e.g. "0.0") is a chat Telegram does not know."""
    value = str(_required(params, "chat_id"))
    if not value.lstrip("-").isdigit():
        raise BotApiError(400, "Bad Request: chat not found")
    return int(value)


def _check_markup(markup) -> None:
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def _photo_size(info: dict) -> dict:
    return {
        "file_id": f"photo-{info.get('filename', info.get('file_id'))}",
        "file_unique_id": "u1",
        "width": 1280,
        "height": 720,
        "file_size": info.get("size", 0),
    }


def _video(info: dict, params: dict) -> dict:
    return {
        "file_id": f"video-{info.get('filename', info.get('file_id'))}",
        "file_unique_id": "u2",
        "width": 1280,
        "height": 720,
        "duration": int(params.get("duration") or 5),
        "file_size": info.get("size", 0),
        "mime_type": "video/mp4",
    }
