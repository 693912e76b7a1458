"""Polling Cloud Logging until it settles, with as few list calls as that takes.

Cloud Logging is not instantly consistent, so a revision's entries are polled
for ``settle_s`` seconds after the last probe: one list at once, one half-way,
one at the end (the read quota is about 60 calls a minute per project). It
stops early once ``enough`` says the verdict cannot change any more.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from gate.cloud.model import LogFetch, LogRecord, LogsApi
from gate.timing import Stopwatch

_TICK_S = 1.0  # how often a waiting countdown is reported


async def poll_logs(
    logs: LogsApi,
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
        entries, made, truncated = await logs.fetch(log_filter)
        calls += made
        for entry in entries:
            seen.setdefault(entry.insert_id or f"{entry.timestamp}{entry.message}", entry)
        if truncated or enough(list(seen.values())) or settle_s <= 0:
            break
    ordered = tuple(sorted(seen.values(), key=lambda e: e.timestamp))
    return LogFetch(log_filter, ordered, calls, settle_s, truncated, watch.ms(), revision)
