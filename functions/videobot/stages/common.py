"""What several stages share: the check of an LLM's per-segment answer."""

from __future__ import annotations

from videobot.errors import VendorFailed


def expect_segments(items: list[str], count: int, what: str) -> list[str]:
    """Exactly `count` non-empty texts, stripped; else the LLM failed."""
    if len(items) != count or not all(isinstance(x, str) and x.strip() for x in items):
        raise VendorFailed(f"the LLM returned {len(items)} {what}, expected {count} non-empty ones")
    return [x.strip() for x in items]
