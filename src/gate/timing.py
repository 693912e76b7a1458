"""Time: the run's deadline, per-step timeouts clipped to it, and blocking calls under it.

The whole run has one :class:`Deadline`. Every network step asks it for a
timeout (its own limit, clipped to what is left), so no input can keep the gate
past the deadline. Blocking libraries (requests) run in their own threads through
:func:`run_blocking`: when the deadline passes, the run moves on and the thread
is abandoned instead of joined, which a thread pool would not allow.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


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


async def run_blocking(func: Callable[[], T], timeout: float) -> T:
    """Run ``func`` in a daemon thread; raise ``TimeoutError`` after ``timeout`` seconds.

    The thread is not cancelled (Python cannot), but it is a daemon, so an
    abandoned call never delays the end of the run.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def deliver(result: T | None, error: BaseException | None) -> None:
        # The loop is gone when the run ended before this call came back.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, error)

    def target() -> None:
        try:
            result = func()
        except BaseException as exc:  # handed to the awaiting coroutine, not swallowed
            deliver(None, exc)
        else:
            deliver(result, None)

    # The low-level API: threading.Thread.start() waits for the new thread to report in,
    # which under load costs a GIL switch interval per thread (measured in bench/); these
    # threads are daemonic by nature, so an abandoned call never delays the exit either.
    _thread.start_new_thread(target, ())
    return await asyncio.wait_for(future, timeout)
