"""What the run tells the live progress line: a phase, or a wait that counts down.

A run reports progress through one callable (:data:`Progress`) that takes a plain
sentence (``"reading the revision's errors from Cloud Logging"``) or a
:class:`Countdown`, a wait with a known length that the terminal's live line
re-renders as time passes (``waiting for the first message 4/10 s``,
``log settle 2 s``, ``step 20%: bake 41 s left, 212 requests so far``). The run
only says what it waits for and how long; rendering, and how often, is the
CLI's (:mod:`gate.cli.progress`), so nothing here writes or sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Countdown:
    """A wait of ``limit_s`` seconds, started at ``started`` (``time.monotonic()``).

    ``text`` may hold ``{elapsed}``, ``{left}`` and ``{limit}`` (whole seconds); ``detail``,
    when given, is asked for a count at each render (``212 requests so far``).
    """

    text: str
    limit_s: float
    detail: Callable[[], str] | None = None
    started: float = field(default_factory=time.monotonic)

    def render(self, now: float | None = None) -> str:
        """The line as it reads at ``now`` (default: the present)."""
        elapsed = min(max(0.0, (time.monotonic() if now is None else now) - self.started),
                      self.limit_s)  # fmt: skip
        line = self.text.format(
            elapsed=f"{elapsed:.0f}",
            left=f"{self.limit_s - elapsed:.0f}",
            limit=f"{self.limit_s:g}",
        )
        extra = self.detail() if self.detail is not None else ""
        return f"{line}, {extra}" if extra else line

    def prefixed(self, prefix: str) -> Countdown:
        """The same wait, its line starting with ``prefix`` (a target's name)."""
        escaped = prefix.replace("{", "{{").replace("}", "}}")
        return replace(self, text=f"{escaped}{self.text}")


Status = str | Countdown
Progress = Callable[[Status], None]


def quiet(_status: Status) -> None:
    """A progress sink that shows nothing (tests, library use)."""


def prefixed(progress: Progress, prefix: str) -> Progress:
    """``progress`` with every line starting with ``prefix`` (``"eu: "`` for a target)."""

    def shown(status: Status) -> None:
        progress(f"{prefix}{status}" if isinstance(status, str) else status.prefixed(prefix))

    return shown
