"""HTTP probe: one GET with requests, redirects not followed, body capped, cold starts retried.

requests is blocking, so each request runs in a thread
(:func:`gate.threads.blocking`) under the run's deadline: when the deadline
passes the run moves on without waiting for the thread. The request itself is
:mod:`gate.probes.get`, imported in that thread: requests is the gate's
costliest import, and this way it overlaps the WebSocket chain's network waits
instead of delaying the first upgrade.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from gate import __version__
from gate.probes.retry import RetryPolicy, with_retries
from gate.probes.transcript import HttpAttempt, HttpTranscript, ProbeError
from gate.redact import Redactor
from gate.threads import blocking
from gate.timing import Deadline, Stopwatch

BODY_LIMIT = 1024 * 1024
USER_AGENT = f"smoke-gate/{__version__}"


@dataclass(frozen=True)
class HttpPlan:
    """What to request and within which limits."""

    url: str
    headers: Mapping[str, str]
    connect_timeout: float
    read_timeout: float
    ssl_context: ssl.SSLContext | None
    retry: RetryPolicy[HttpAttempt]
    body_limit: int = BODY_LIMIT


def _get(plan: HttpPlan, deadline: Deadline, redactor: Redactor, started_ms: float) -> HttpAttempt:
    from gate.probes.get import get_once

    return get_once(plan, deadline, redactor, started_ms)


async def probe_http(plan: HttpPlan, deadline: Deadline, redactor: Redactor) -> HttpTranscript:
    """GET ``plan.url``, retrying cold-start outcomes, and return the transcript."""
    watch = Stopwatch()

    async def attempt() -> HttpAttempt:
        started_ms = deadline.elapsed_ms()
        hard_limit = deadline.remaining()
        try:
            async with asyncio.timeout(hard_limit):
                return await blocking(_get, plan, deadline, redactor, started_ms)
        except TimeoutError:
            return HttpAttempt(
                started_ms,
                round(hard_limit * 1000.0, 1),
                error=ProbeError("deadline", "no complete answer before the run's deadline"),
            )

    attempts = await with_retries(attempt, plan.retry, deadline)
    return HttpTranscript("GET", plan.url, tuple(attempts), watch.ms())
