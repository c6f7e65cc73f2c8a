"""The Telegram fixtures (the fake Bot API, the bot pointed at it)."""

from tests.fakes.telegram_fixtures import fake_telegram, telegram  # noqa: F401
