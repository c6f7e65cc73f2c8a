"""The Telegram fixtures (the fake Bot API, the bot pointed at it)."""

from tests.fakes.telegram_fixtures import fake_telegram, slow_worker, telegram  # noqa: F401
