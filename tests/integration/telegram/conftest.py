"""The Telegram fixtures (the fake Bot API, the bot pointed at it), and `make serve`'s webhook
server in front of the local state machine, for the conversation tests."""

import pytest

from local.serve import WebhookServer
from tests.fakes.telegram_fixtures import (  # noqa: F401
    TelegramUser,
    fake_telegram,
    http_poster,
    telegram,
    telegram_environment,
)


@pytest.fixture(scope="module")
def bot(pipeline, fake_telegram):
    """`make serve` in-process: the webhook server on a free port, the pipeline's functions
    pointed at the fake Bot API."""
    with pipeline.using(pipeline.runtime_with(**telegram_environment(fake_telegram, ALLOWED_USER_IDS="*"))):
        server = WebhookServer(lambda: pipeline.runtime, port=0).start()
        yield server
        server.stop()


@pytest.fixture
def user(bot, fake_telegram):
    return TelegramUser(fake_telegram, http_poster(bot.url))
