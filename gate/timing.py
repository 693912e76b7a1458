"""Time: the run's deadline, and per-step timeouts clipped to it.

The whole run has one :class:`Deadline`, which the supervisor
(:mod:`gate.run.supervisor`) starts when the command starts and hands out, with
the budgets of their own that the work after the verdict has. Every network
step asks it for a timeout (its own limit, clipped to what is left), so no input
can keep the gate past the deadline.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable


class Deadline:
    """A point in monotonic time by which the run must be finished."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()
        self.seconds = seconds
        self.at = self.started + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - self._clock())

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self.remaining() <= 0.0

    def clip(self, step_timeout: float) -> float:
        """The timeout for one step: its own limit or what is left, whichever is smaller."""
        return min(step_timeout, self.remaining())

    def binds(self, step_timeout: float) -> bool:
        """True when what is left of the run is shorter than ``step_timeout``."""
        return self.remaining() < step_timeout

    def within(self, seconds: float) -> Deadline:
        """The same clock, started at the same time, ending ``seconds`` after the start or
        at this deadline, whichever comes first: a target's own ``--deadline`` inside the
        run's."""
        part = copy.copy(self)
        part.seconds = min(self.seconds, seconds)
        part.at = min(self.at, self.started + seconds)
        return part

    def elapsed_ms(self) -> float:
        """Milliseconds since the run started."""
        return (self._clock() - self.started) * 1000.0


class Stopwatch:
    """Measures one step in milliseconds."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def ms(self) -> float:
        """Milliseconds since the stopwatch started, rounded to 0.1 ms."""
        return round((time.perf_counter() - self._start) * 1000.0, 1)
