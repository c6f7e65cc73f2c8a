"""Fixtures for the Telegram bot's tests: the fake Bot API, the environment pointing the bot
at it, and a driver that speaks only Telegram's protocol (Update JSON in, Bot API calls out).
Test modules import what they use from here."""

from __future__ import annotations

import copy
import itertools
import json
import random
from pathlib import Path

import pytest
import requests

from tests.fakes.telegram_api import Call, FakeTelegram

EVENTS = Path(__file__).resolve().parent.parent / "events"
SECRET = "local-webhook-secret_0123456789"
_update_ids = itertools.count(random.randint(10**9, 2 * 10**9))


def event(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


def accepted_job_id(text: str) -> str:
    """The job id in the bot's "✅ Запрос принят! ID: …" reply."""
    return text.split("ID: ", 1)[1].split()[0]


def new_chat_id() -> int:
    return random.randint(6 * 10**9, 9 * 10**9)


def telegram_environment(fake: FakeTelegram, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        **extra,
    }


@pytest.fixture(scope="session")
def fake_telegram():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture
def telegram(fake_telegram, setup):
    """The fake Bot API, emptied, with the test's runtime configured to call it."""
    fake_telegram.reset()
    setup.env.update(telegram_environment(fake_telegram))
    return fake_telegram


class TelegramUser:
    """One person in a private chat, speaking to the bot only through Telegram's protocol:
    Update JSON POSTed to the webhook with Telegram's secret header, answers read from the
    fake Bot API's recorded calls."""

    def __init__(
        self,
        fake: FakeTelegram,
        post,
        *,
        user_id: int | None = None,
        language_code: str = "ru",
        first_name: str = "Анна",
    ):
        self.fake, self._post = fake, post
        self.user_id = user_id or new_chat_id()
        self.chat_id = self.user_id
        self.language_code, self.first_name = language_code, first_name
        self.message_ids = itertools.count(1)
        self.query_ids: list[str] = []  # the callback queries this user's taps made

    def _user(self) -> dict:
        return {"id": self.user_id, "is_bot": False, "first_name": self.first_name, "language_code": self.language_code}

    def message_update(self, text: str | None = None, template: str = "telegram_message_text") -> dict:
        update = event(template)
        update["update_id"] = next(_update_ids)
        body = update.get("message") or update.get("edited_message")
        body.update({"message_id": next(self.message_ids), "from": self._user()})
        if body["chat"]["type"] == "private":
            body["chat"] = {"id": self.chat_id, "first_name": self.first_name, "type": "private"}
        if text is not None:
            body["text"] = text
            body.pop("entities", None)
            if text.startswith("/"):
                body["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
        return update

    def callback_update(self, data: str, message: dict | None = None) -> dict:
        update = event("telegram_callback_query")
        update["update_id"] = next(_update_ids)
        query = update["callback_query"]
        query.update({"id": str(next(_update_ids)), "from": self._user(), "data": data})
        self.query_ids.append(query["id"])
        query["message"]["chat"] = {"id": self.chat_id, "first_name": self.first_name, "type": "private"}
        if message:
            query["message"].update({"message_id": message["message_id"], "text": message.get("text", "…")})
        return update

    def post(self, update: dict, secret: str | None = SECRET) -> int:
        return self._post(update, secret)

    def say(self, text: str) -> int:
        return self.post(self.message_update(text))

    def reply_to(self, call: Call, text: str) -> int:
        """A text sent as a reply to the bot's message `call` (Telegram puts that message, with
        its inline keyboard, in reply_to_message)."""
        update = self.message_update(text)
        update["message"]["reply_to_message"] = sent_message(call)
        return self.post(update)

    def press(self, button: dict, message: dict | None = None) -> int:
        return self.post(self.callback_update(button["callback_data"], message))

    # -- what the bot sent to this chat --------------------------------------------------------

    def sent(self, *methods: str) -> list[Call]:
        return self.fake.calls_to(*(methods or ("sendMessage",)), chat_id=self.chat_id)

    def texts(self) -> list[str]:
        return [c.params["text"] for c in self.sent("sendMessage")]

    def wait_for_text(self, fragment: str, timeout: float = 60, after: int = 0) -> Call:
        return self.fake.wait_for(
            lambda c: (
                c.method == "sendMessage"
                and str(c.params.get("chat_id")) == str(self.chat_id)
                and fragment in c.params.get("text", "")
                and self.fake.calls.index(c) >= after
            ),
            timeout,
            f"a message with {fragment!r}",
        )

    def wait_for_method(self, method: str, timeout: float = 60) -> Call:
        return self.fake.wait_for(
            lambda c: c.method == method and str(c.params.get("chat_id")) == str(self.chat_id), timeout, method
        )

    def callback_answers(self) -> list[str]:
        """The answers to this user's taps (the fake Bot API serves the whole session)."""
        return [
            c.params.get("text", "")
            for c in self.fake.calls_to("answerCallbackQuery")
            if str(c.params.get("callback_query_id")) in self.query_ids
        ]


def inline_buttons(call: Call) -> list[dict]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def sent_message(call: Call) -> dict:
    return copy.deepcopy(call.result)


def http_poster(url: str):
    """POST an update to the local webhook server like Telegram does."""

    def post(update: dict, secret: str | None) -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return requests.post(url, data=json.dumps(update), headers=headers, timeout=60).status_code

    return post


def lambda_poster(rt):
    """Call the webhook Lambda handler directly with an API Gateway v2 event, with the runtime
    `rt` (or, called, the runtime it gives at each post)."""
    from webhook.app import lambda_handler

    def post(update: dict, secret: str | None) -> int:
        api_event = event("apigw_http_v2_webhook")
        api_event["body"] = json.dumps(update)
        if secret is None:
            del api_event["headers"]["x-telegram-bot-api-secret-token"]
        else:
            api_event["headers"]["x-telegram-bot-api-secret-token"] = secret
        return lambda_handler.run(rt() if callable(rt) else rt, api_event, None)["statusCode"]

    return post


@pytest.fixture
def slow_worker(telegram, setup, monkeypatch):
    """HandleSlowUpdateFunction behind a local Lambda endpoint, as the webhook reaches it on
    AWS: Invoke with InvocationType=Event is answered 202 at once and run in the background
    (retried twice after a failure, here 0.2 s apart), with the test's runtime.
    `slow_worker.wait_idle(s)` waits for it."""
    from local import template as tpl
    from local.lambda_endpoint import LambdaEndpoint, import_handler

    name = "HandleSlowUpdateFunction"
    template = tpl.load_template()
    handler = import_handler(tpl.functions(template)[name])
    endpoint = LambdaEndpoint(
        {name: lambda event, context: handler.run(setup.rt, event, context)},
        {name: tpl.function_timeouts(template)[name]},
        async_retry_delays=(0.2, 0.2),
    ).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", endpoint.url)  # botocore's, read when the client is made
    setup.env["SLOW_UPDATE_FUNCTION_NAME"] = name
    yield endpoint
    endpoint.stop()
