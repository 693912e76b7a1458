"""The supervisor of a run: its event loop, its clocks, its signals, and the limit no run
may outlive.

A command has one supervisor, and the supervisor has the run's only event loop
(:meth:`Supervisor.run`) and its only deadline (:attr:`Supervisor.deadline`),
started when the command starts: reading Secret Manager, minting tokens, the
probes and the log polling all spend the same ``--deadline``. Every network step
is clipped to what remains of it by the step itself; the supervisor owns what is
above them:

* the budgets of their own that the work after the verdict has (a traffic
  action's ``--action-timeout``, a canary round, the notifications) are issued
  by :meth:`Supervisor.budget`, so every clock of a run starts here;
* a phase that the run's deadline cut short is remembered (:meth:`Supervisor.cut`),
  so the report can name it;

* the phases of a run (probes, reading Cloud Logging, a rollback's re-check) run
  through :meth:`Supervisor.phase`: on SIGINT or SIGTERM the phases in flight are
  cancelled and raise :class:`Interrupted`, so the run stops starting new work
  and reports what was interrupted;
* a traffic change runs through :meth:`Supervisor.action`: it is never started
  after a signal, and never cancelled once started (a traffic update left half
  done is worse than a late exit), so a signal waits for it;
* the whole command runs under one hard limit (the deadline, the actions'
  budget, and a margin): if the gate itself ever outlives it, the run is
  stopped and the command fails as the gate's own error, never as a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import signal
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from gate.errors import GateFailure
from gate.timing import Deadline

T = TypeVar("T")

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_MARGIN_S = 5.0
_OPEN_FILES = 4096  # 1000 sockets, the sandbox's own in tests, and the rest


class Interrupted(Exception):
    """A signal stopped the run during ``during``."""

    def __init__(self, signum: int, during: str) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name} during {during}")
        self.signum = signum
        self.during = during

    @property
    def name(self) -> str:
        """``SIGINT`` or ``SIGTERM``."""
        return signal.Signals(self.signum).name


class Supervisor:
    """One command's supervisor: see the module docstring.

    ``deadline_s`` is the run's ``--deadline`` (for the traffic commands, their
    ``--action-timeout``); its clock starts now.
    """

    def __init__(self, deadline_s: float) -> None:
        self.signum: int | None = None
        self.deadline = Deadline(deadline_s)
        self._phases: set[asyncio.Future[Any]] = set()
        self._cut: list[tuple[Deadline, str]] = []

    @staticmethod
    def budget(seconds: float) -> Deadline:
        """A budget of its own, started now: an action's, a canary round's, the notifications'."""
        return Deadline(seconds)

    def cut(self, deadline: Deadline) -> tuple[str, ...]:
        """The phases run under ``deadline`` that it cut short, in order."""
        return tuple(during for clock, during in self._cut if clock is deadline)

    def cut_message(self, deadline: Deadline) -> str | None:
        """The report's sentence naming the phases ``deadline`` cut short, or ``None``."""
        cut = self.cut(deadline)
        if not cut:
            return None
        phases = cut[0] if len(cut) == 1 else f"{', '.join(cut[:-1])} and {cut[-1]}"
        return (
            f"the run's --deadline of {deadline.seconds:g} s passed during {phases}: raise "
            "--deadline, or look for what hangs"
        )

    def _note_cut(self, deadline: Deadline | None, during: str) -> None:
        if deadline is not None and deadline.expired() and (deadline, during) not in self._cut:
            self._cut.append((deadline, during))

    def _on_signal(self, signum: int) -> None:
        self.signum = signum
        for phase in list(self._phases):
            phase.cancel()

    def _stop_if_signalled(self, during: str) -> None:
        if self.signum is not None:
            raise Interrupted(self.signum, during)

    async def phase(self, during: str, work: Awaitable[T], deadline: Deadline | None = None) -> T:
        """``work``, cancelled by a signal (then :class:`Interrupted` names ``during``).

        ``deadline``: the clock ``work`` runs under; when it has passed by the end of
        the phase, the phase was cut short by it (:meth:`cut`).
        """
        self._stop_if_signalled(during)
        task = asyncio.ensure_future(work)
        self._phases.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            if self.signum is not None and task.cancelled():
                raise Interrupted(self.signum, during) from None
            raise
        finally:
            self._phases.discard(task)
            self._note_cut(deadline, during)

    async def action(self, during: str, work: Callable[[], Awaitable[T]]) -> T:
        """Start ``work()`` unless a signal came, and let it finish even if one comes now."""
        self._stop_if_signalled(f"before {during}")
        return await work()

    def run(self, main: Coroutine[Any, Any, T], limit_s: float) -> T:
        """Run ``main`` in a new event loop with the signal handlers, within ``limit_s``."""
        _allow_sockets()
        return asyncio.run(self._supervised(main, limit_s))

    async def _supervised(self, main: Coroutine[Any, Any, T], limit_s: float) -> T:
        loop = asyncio.get_running_loop()
        handled = threading.current_thread() is threading.main_thread()
        for signum in SIGNALS if handled else ():
            loop.add_signal_handler(signum, self._on_signal, signum)
        try:
            async with asyncio.timeout(limit_s + _MARGIN_S):
                return await main
        except TimeoutError:
            raise GateFailure(
                f"the run outlived its limit of {limit_s + _MARGIN_S:g} s although every step "
                "has a timeout: this is a bug in smoke-gate, please report it"
            ) from None
        finally:
            for signum in SIGNALS if handled else ():
                loop.remove_signal_handler(signum)


def _allow_sockets() -> None:
    """Raise the open-file limit to what 1000 connections need, where the system allows it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = _OPEN_FILES if hard == resource.RLIM_INFINITY else min(_OPEN_FILES, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
