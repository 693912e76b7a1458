"""Text as the gate shows it: excerpts of what a server sent, free of control characters."""

from __future__ import annotations

import re

EXCERPT = 300
ELLIPSIS = "…"

# C0 and C1 controls (tab and newline kept), and the bidirectional overrides that make a
# line read differently from what it holds.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
REPLACEMENT = "\ufffd"


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The start of a long text, marked as cut with an ellipsis."""
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


def sanitize(text: str) -> str:
    """``text`` with control characters replaced, so that no terminal or parser reads them."""
    return _CONTROLS.sub(REPLACEMENT, text)


def one_line(text: str) -> str:
    """``text`` sanitised and on one line, for summaries, annotations and table cells."""
    return " ".join(sanitize(text).split())


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun``, agreeing: ``1 error entry``, ``3 error entries``, ``0 groups``.

    ``many`` is the plural when it is not ``noun`` + ``s`` (``entry`` -> ``entries`` is known).
    """
    if count == 1:
        return f"{count} {noun}"
    if many is None:
        many = (
            f"{noun[:-1]}ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else f"{noun}s"
        )
    return f"{count} {many}"


def were(count: int) -> str:
    """The verb after a count: ``1 of them was``, ``2 of them were``."""
    return "was" if count == 1 else "were"
