"""Text as the gate shows it: excerpts of what a server sent."""

from __future__ import annotations

EXCERPT = 300


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The start of a long text, marked as cut with an ellipsis."""
    return text if len(text) <= limit else text[:limit] + "…"
