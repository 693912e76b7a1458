"""What the gate is waiting on, shown on one live line of stderr when it is a terminal."""

from __future__ import annotations

import sys


def progress(message: str) -> None:
    """Show ``message`` in place of the previous one (only on a terminal)."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[K... {message}")
        sys.stderr.flush()


def progress_done() -> None:
    """Clear the live line."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()
