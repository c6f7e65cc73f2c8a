"""The Telegram bot: the seed's conversation. `handlers` answers updates (the webhook calls
it), `outbox` sends what the pipeline reports (TelegramNotifier calls it), `ui` builds the
keyboards and the Status view, `texts` holds every text."""
