"""The python-telegram-bot v22 Bot, without an updater, pointed at TELEGRAM_API_BASE_URL,
with Telegram's 429 retry_after honoured and its outages turned into VendorUnavailable (the
ASL retries it).

Each thread keeps one event loop and one initialised Bot per token and base URL: a warm
Lambda reuses its Bot, its TLS context and its connections instead of paying for them (and
for a getMe) on every update. Per thread, not per process, because handlers make blocking
PostgreSQL calls (and take row locks) between their awaits: two updates sharing one loop
could wait on each other forever."""

from __future__ import annotations

import asyncio
import functools
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Literal, TypeVar, get_args, overload

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from videobot.config import Settings
from videobot.errors import ConfigurationError, VendorUnavailable
from videobot.observability import logger

T = TypeVar("T")
# Telegram may already have delivered these when the answer times out: never sent blindly twice.
NotIdempotent = Literal["sendVideo", "sendMediaGroup"]
NOT_IDEMPOTENT = frozenset(get_args(NotIdempotent))


def delivery_uncertain(exc: TimedOut) -> bool:
    """A timeout after the request left (reading the answer, or writing the upload): Telegram
    may have delivered it. A connect or pool timeout sent nothing."""
    import httpx

    return not isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout) and "Pool timeout" not in str(exc)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every Bot in the process (httpx's default: certifi's CA bundle).
    Building one reads the whole bundle, about 25 ms of CPU; the local runner starts a Bot
    on every handler thread, and each Bot has two clients."""
    import httpx

    return httpx.create_ssl_context()


def make_bot(settings: Settings) -> Bot:
    if not settings.telegram.bot_token:
        raise ConfigurationError("TELEGRAM_BOT_TOKEN is not set")
    base = settings.telegram.api_base_url.rstrip("/")
    return Bot(
        settings.telegram.bot_token,
        base_url=f"{base}/bot{{token}}",
        base_file_url=f"{base}/file/bot{{token}}",
        request=HTTPXRequest(
            connect_timeout=settings.telegram.connect_timeout_seconds,
            read_timeout=settings.telegram.read_timeout_seconds,
            write_timeout=settings.telegram.read_timeout_seconds,
            media_write_timeout=settings.telegram.media_write_timeout_seconds,
            httpx_kwargs={"verify": _tls_context()},
        ),
        get_updates_request=HTTPXRequest(connect_timeout=10, read_timeout=60, httpx_kwargs={"verify": _tls_context()}),
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@overload
async def call(fn: Callable[[], Awaitable[T]], what: NotIdempotent, settings: Settings) -> T | None: ...


@overload
async def call(fn: Callable[[], Awaitable[T]], what: str, settings: Settings) -> T: ...


async def call(fn: Callable[[], Awaitable[T]], what: str, settings: Settings) -> T | None:
    """One Bot API call with Telegram's flood control honoured: a 429 whose retry_after is
    short is waited out and retried; a longer one, or a network/5xx failure that persists,
    raises VendorUnavailable so the stage's Retry sends again later. A sendVideo or
    sendMediaGroup that timed out after it left is not repeated and returns None. `settings`
    bound the tries (TELEGRAM_ATTEMPTS, TELEGRAM_MAX_RETRY_AFTER_SECONDS)."""
    limit, attempts = settings.telegram.max_retry_after_seconds, settings.telegram.attempts
    for attempt in range(1, attempts + 1):
        try:
            return await fn()
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            logger.warning("telegram flood control", extra={"method": what, "retry_after": wait})
            if wait > limit or attempt == attempts:
                raise VendorUnavailable(f"Telegram asked to wait {wait:.0f} s before {what}") from None
            await asyncio.sleep(wait)
        except (BadRequest, Forbidden):
            raise
        except (TimedOut, NetworkError) as exc:
            if isinstance(exc, TimedOut) and what in NOT_IDEMPOTENT and delivery_uncertain(exc):
                # Resending could deliver the album or the video twice. The caller's record of
                # what was sent (ai_video_bot.notifications) keeps the part claimed: taken as sent.
                logger.warning("telegram timed out after a send: not repeated", extra={"method": what})
                return None
            logger.warning("telegram unavailable", extra={"method": what, "error": str(exc)})
            if attempt == attempts:
                raise VendorUnavailable(f"Telegram failed during {what}: {exc}") from None
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


class _ThreadLoop:
    """A thread's event loop and the Bots initialised on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.bots: dict[tuple[str, str], Bot] = {}

    async def bot(self, settings: Settings) -> Bot:
        key = (settings.telegram.bot_token or "", settings.telegram.api_base_url)
        if key not in self.bots:
            bot = make_bot(settings)
            await call(bot.initialize, "getMe", settings)
            self.bots[key] = bot
        return self.bots[key]


_local = threading.local()


def run(work: Callable[[Bot], Awaitable[T]], settings: Settings) -> T:
    """Run `work(bot)` on this thread's loop, with its Bot (one per token and base URL)."""
    thread = getattr(_local, "thread", None)
    if thread is None:
        thread = _local.thread = _ThreadLoop()

    async def main() -> T:
        return await work(await thread.bot(settings))

    started = time.monotonic()
    try:
        return thread.loop.run_until_complete(main())
    finally:
        logger.debug("telegram work done", extra={"seconds": round(time.monotonic() - started, 3)})
