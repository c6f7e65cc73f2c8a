"""What several stages share: the check of an LLM's per-segment answer, and of a column the
pipeline's order has filled by the time a stage reads it."""

from __future__ import annotations

from typing import Any, TypeVar

from videobot.errors import VendorFailed

T = TypeVar("T")


def required(value: T | None, what: str) -> T:
    """A column an earlier stage has set (a prompt before its image, a clip before assembly)."""
    if value is None:
        raise ValueError(f"{what} is not set: an earlier stage did not finish")
    return value


def expect_segments(items: list[Any], count: int, what: str) -> list[str]:
    """Exactly `count` non-empty texts, stripped; else the LLM failed."""
    if len(items) != count or not all(isinstance(x, str) and x.strip() for x in items):
        raise VendorFailed(f"the LLM returned {len(items)} {what}, expected {count} non-empty ones")
    return [x.strip() for x in items]
