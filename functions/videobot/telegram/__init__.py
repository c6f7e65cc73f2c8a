"""The Telegram bot: the seed's conversation. `handlers` answers updates (the webhook calls
it) and routes each to its feature; `notifier` (TelegramNotifier) sends what the pipeline
reports; `ui` builds the keyboards and the Status view, `texts` holds every text
(docs/architecture.md lists every module and its layer)."""
