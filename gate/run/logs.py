"""Polling Cloud Logging until it settles, with as few list calls as that takes.

Cloud Logging is not instantly consistent, so a revision's entries are polled
for ``settle_s`` seconds after the last probe: one list at once, one half-way,
one at the end. It stops early once ``enough`` says the verdict cannot change
any more.

Logging reads share one quota per project (about 60 list calls a minute) with
every other reader of the project. :class:`SharedLogs` makes the targets of one
project read with one query per polling round: a read joins the round that is
gathering (for ``ROUND_WINDOW_S``) or opens one, the round's query names every
joined revision, and each target keeps the entries of its own scope. Fifty
targets in one project cost about the Logging reads of one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from gate.cloud.calls import Budget
from gate.cloud.logs import CloudLogs, LogScope, scopes_filter
from gate.cloud.model import LogFetch, LogRecord
from gate.timing import Stopwatch

_TICK_S = 1.0  # how often a waiting countdown is reported
ROUND_WINDOW_S = 0.3
"""How long a round of :class:`SharedLogs` gathers reads before its one query goes out."""
SCOPES_PER_QUERY = 40
"""At most this many revisions in one query (a Logging query may be 20,000 characters)."""

Fetched = tuple[list[LogRecord], int, bool]


@dataclass
class _Round:
    scopes: list[LogScope] = field(default_factory=list)
    answer: asyncio.Future[Fetched] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class SharedLogs:
    """Reads of several scopes of one project, one query per round (see the module)."""

    def __init__(
        self,
        project: str,
        budget: Callable[[], Budget],
        window_s: float = ROUND_WINDOW_S,
        endpoint: str | None = None,
    ) -> None:
        """``budget`` gives the time limit of each round's reads (connecting included);
        ``endpoint``: a Logging emulator's."""
        self.project = project
        self.endpoint = endpoint
        self._budget = budget
        self._window_s = window_s
        self._logs: CloudLogs | None = None
        self._gathering: _Round | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def fetch(self, scope: LogScope) -> Fetched:
        """The entries of ``scope``, read in the round gathering now: entries, calls, truncated."""
        gathering = self._gathering
        if gathering is None:
            gathering = self._gathering = _Round()
            task = asyncio.create_task(self._send(gathering))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        gathering.scopes.append(scope)
        entries, calls, truncated = await asyncio.shield(gathering.answer)
        return [e for e in entries if scope.covers(e)], calls, truncated

    async def _send(self, gathering: _Round) -> None:
        await asyncio.sleep(self._window_s)
        self._gathering = None  # later reads open the next round
        try:
            budget = self._budget()
            if self._logs is None:
                self._logs = await CloudLogs.connect(self.project, budget, self.endpoint)
            logs = self._logs.within(budget)
            found: list[LogRecord] = []
            calls, truncated = 0, False
            scopes = list(dict.fromkeys(gathering.scopes))
            for at in range(0, len(scopes), SCOPES_PER_QUERY):
                chunk = scopes[at : at + SCOPES_PER_QUERY]
                entries, made, cut = await logs.fetch(scopes_filter(self.project, chunk))
                found += entries
                calls, truncated = calls + made, truncated or cut
        except asyncio.CancelledError:
            gathering.answer.cancel()
            raise
        except Exception as exc:  # every reader of the round gets the error
            gathering.answer.set_exception(exc)
            gathering.answer.exception()  # retrieved: a reader that left does not warn
            return
        gathering.answer.set_result((found, calls, truncated))

    def close(self) -> None:
        """Close the Logging client's channel, if one was opened."""
        if self._logs is not None:
            self._logs.close()


async def poll_logs(
    fetch: Callable[[], Awaitable[Fetched]],
    log_filter: str,
    revision: str,
    settle_s: float,
    enough: Callable[[Sequence[LogRecord]], bool],
    on_wait: Callable[[float], None] = lambda _seconds: None,
) -> LogFetch:
    """Poll at 0, ``settle_s``/2 and ``settle_s`` seconds; stop early once ``enough`` holds."""
    watch = Stopwatch()
    seen: dict[str, LogRecord] = {}
    calls = 0
    truncated = False
    started = time.monotonic()
    for at in (0.0, settle_s / 2, settle_s):
        wait = at - (time.monotonic() - started)
        while wait > 0:
            on_wait(wait)
            step = min(wait, _TICK_S)
            await asyncio.sleep(step)
            wait -= step
        entries, made, truncated = await fetch()
        calls += made
        for entry in entries:
            seen.setdefault(entry.insert_id or f"{entry.timestamp}{entry.message}", entry)
        if truncated or enough(list(seen.values())) or settle_s <= 0:
            break
    ordered = tuple(sorted(seen.values(), key=lambda e: e.timestamp))
    return LogFetch(log_filter, ordered, calls, settle_s, truncated, watch.ms(), revision)
