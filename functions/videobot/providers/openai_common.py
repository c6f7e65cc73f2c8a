"""The OpenAI client both OpenAI providers share, and how its errors map onto ours.

The SDK retries 408/409/429/5xx and connection errors itself, with exponential backoff and the
server's Retry-After; it never retries a 400. What is still failing after its retries becomes
VendorUnavailable (the state machine retries the stage later) or VendorFailed (it does not).
"""

from __future__ import annotations

from videobot.config import Settings
from videobot.errors import ConfigurationError, VendorFailed, VendorUnavailable


def make_client(settings: Settings):
    import openai

    if not settings.openai.api_key:
        raise ConfigurationError("OPENAI_API_KEY is not set")
    return openai.OpenAI(
        api_key=settings.openai.api_key,
        base_url=settings.openai.base_url or None,
        websocket_base_url=settings.openai.websocket_base_url or None,
        timeout=settings.openai.timeout_seconds,
        max_retries=settings.openai.max_retries,
    )


def vendor_error(exc: Exception, what: str) -> Exception:
    """Our error for an exception the SDK raised (never echoing the key or the input)."""
    import openai

    if isinstance(exc, (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError)):
        return VendorUnavailable(f"OpenAI {what}: {type(exc).__name__} after retries")
    if isinstance(exc, openai.APIStatusError):
        return VendorFailed(f"OpenAI {what}: HTTP {exc.status_code} {_message(exc)}")
    return VendorFailed(f"OpenAI {what}: malformed reply ({type(exc).__name__})")


def _message(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:300]
    return ""
