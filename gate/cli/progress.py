"""What the gate is waiting on, shown on one live line of stderr when it is a terminal.

The run says what it waits for (:mod:`gate.status`): a sentence, or a
:class:`~gate.status.Countdown` that this line re-renders twice a second from a
small daemon thread, so ``waiting for the first message 4/10 s`` counts while
the run's event loop waits. The line is cut to the terminal's width (a wrapped
line could not be redrawn in place), and nothing is written when stderr is not
a terminal: CI logs get the report, not a stream of carriage returns.
"""

from __future__ import annotations

import shutil
import sys
import threading

from gate.status import Countdown, Status

_TICK_S = 0.5


class LiveLine:
    """The one live line of a command: the latest status, redrawn while it counts down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: Status | None = None
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    def show(self, status: Status) -> None:
        """Show ``status`` in place of the previous one (only on a terminal)."""
        if not sys.stderr.isatty():
            return
        with self._lock:
            self._status = status
            self._draw()
            if isinstance(status, Countdown) and self._ticker is None:
                self._stop = threading.Event()  # its own: a ticker stopped earlier stays stopped
                self._ticker = threading.Thread(target=self._tick, args=(self._stop,), daemon=True)
                self._ticker.start()

    def done(self) -> None:
        """Clear the live line and stop redrawing it."""
        self._stop.set()
        with self._lock:
            self._status = None
            self._ticker = None
            if sys.stderr.isatty():
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()

    def _tick(self, stop: threading.Event) -> None:
        while not stop.wait(_TICK_S):
            with self._lock:
                if not isinstance(self._status, Countdown):
                    continue
                self._draw()

    def _draw(self) -> None:
        status = self._status
        if status is None:
            return
        text = status.render() if isinstance(status, Countdown) else status
        width = shutil.get_terminal_size().columns
        line = f"... {' '.join(text.split())}"
        if len(line) > width - 1:
            line = line[: max(0, width - 2)] + "…"
        sys.stderr.write(f"\r\x1b[K{line}")
        sys.stderr.flush()


LIVE = LiveLine()


def progress(status: Status) -> None:
    """Show ``status`` on the command's live line."""
    LIVE.show(status)


def progress_done() -> None:
    """Clear the live line."""
    LIVE.done()
