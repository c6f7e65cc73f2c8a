"""What a text written at an open gate means before it is taken as feedback: a plain yes
("ок", "да", "го", "давай", "👍", "yes", "ok", "approve") is ✅; a yes followed by more words
("да, но короче") could be either, and is asked about; "переделай все …" redoes all ten; a
refusal's new prompt may name its segment ("7: …")."""

from __future__ import annotations

import re
from enum import Enum

# Words that alone mean "yes, go on" (lower case; emoji without skin tone or variation selector).
YES = frozenset(
    {
        "ок", "окей", "ok", "okay", "да", "ага", "го", "давай", "yes", "yep", "approve", "approved",
        "подтверждаю", "утверждаю", "подтвердить", "хорошо", "отлично", "good", "fine", "great",
        "👍", "👌", "✅", "+",
    }
)  # fmt: skip
_TOKENS = re.compile(r"\w+|[^\w\s.,;:!?()\"'«»-]+")
_EMOJI_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")
_REDO_ALL = re.compile(
    r"^\s*(?:переделай(?:те)?|переделать|redo)\s+(?:все|всё|all)\b[\s:,.;-]*(.*)$", re.IGNORECASE | re.DOTALL
)
_NAMED_SEGMENT = re.compile(
    r"^\s*(?:(?:сегмент|клип|изображение|картинка|segment|clip|image)\s*)?(\d{1,2})\s*[:.)—-]\s*(\S.*)$",
    re.IGNORECASE | re.DOTALL,
)


class Meaning(Enum):
    YES = "yes"  # ✅
    MAYBE = "maybe"  # a yes with more words: ask
    OTHER = "other"  # feedback, as the gate reads it


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(_EMOJI_MODIFIERS.sub("", text.lower()))


def meaning(text: str) -> Meaning:
    """ "ок", "Да!", "👍🏻", "ok go" -> YES; "да, но короче", "ок сделай ярче" -> MAYBE."""
    tokens = _tokens(text)
    if tokens and all(token in YES for token in tokens):
        return Meaning.YES
    if tokens and tokens[0] in YES:
        return Meaning.MAYBE
    return Meaning.OTHER


def redo_all_words(text: str) -> str | None:
    """ "переделай все ярче" -> "ярче", "redo all" -> ""; None when it is not a redo of all."""
    match = _REDO_ALL.match(text)
    return match.group(1).strip() if match else None


def named_segment(text: str) -> tuple[int, str] | None:
    """ "7: чашка на столе", "клип 7 — чашка" -> (6, the words); None when no segment is named."""
    match = _NAMED_SEGMENT.match(text)
    if match is None or int(match.group(1)) < 1:
        return None
    return int(match.group(1)) - 1, match.group(2).strip()
