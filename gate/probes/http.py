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
from urllib.parse import urlsplit

from gate import __version__
from gate.probes.context import Probing
from gate.probes.resolve import resolve
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


async def probe_http(plan: HttpPlan, probing: Probing) -> HttpTranscript:
    """GET ``plan.url``, retrying cold-start outcomes, and return the transcript."""
    deadline, redactor = probing.deadline, probing.redactor
    watch = Stopwatch()

    parts = urlsplit(plan.url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)

    async def attempt() -> HttpAttempt:
        started_ms = deadline.elapsed_ms()
        clock = Stopwatch()
        # Resolve first, bounded: requests' own lookup cannot be interrupted.
        resolved = await resolve(host, port, plan.connect_timeout, deadline, redactor)
        if isinstance(resolved, ProbeError):
            return HttpAttempt(started_ms, clock.ms(), error=resolved)
        # A response and its body within connect + read (+1 s); requests clips each step too.
        hard_limit = min(deadline.remaining(), plan.connect_timeout + plan.read_timeout + 1.0)
        try:
            async with asyncio.timeout(hard_limit):
                return await blocking(_get, plan, deadline, redactor, started_ms)
        except TimeoutError:
            late = (
                ProbeError("deadline", "no complete answer before the run's deadline")
                if deadline.expired()
                else ProbeError(
                    "read_timeout", "no complete answer within --connect-timeout + --read-timeout"
                )
            )
            return HttpAttempt(started_ms, clock.ms(), error=late)

    attempts = await with_retries(attempt, plan.retry, deadline)
    return HttpTranscript("GET", plan.url, tuple(attempts), watch.ms())
