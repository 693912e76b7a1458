"""HTTP probe: one GET with requests, redirects not followed, body capped.

requests is blocking, so each request runs in a thread
(:func:`gate.threads.blocking`) under the run's deadline: when the deadline
passes the run moves on without waiting for the thread. Connect and read timeouts are
split like requests' ``(connect, read)`` tuple and clipped to the deadline.
The body is read in chunks up to a cap, so an endless stream ends as a
truncated body instead of a hang.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from gate import __version__
from gate.probes.errors import from_requests
from gate.probes.retry import RetryPolicy, with_retries
from gate.probes.transcript import HttpAttempt, HttpResponse, HttpTranscript, ProbeError
from gate.redact import Redactor
from gate.threads import blocking
from gate.timing import Deadline, Stopwatch

BODY_LIMIT = 1024 * 1024
_CHUNK = 16 * 1024
_KEPT_HEADERS = 30
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


class _ContextAdapter(HTTPAdapter):
    """Makes requests verify TLS with the gate's context (system CAs plus --ca-bundle)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


def _session(context: ssl.SSLContext | None) -> requests.Session:
    session = requests.Session()
    if context is not None:
        session.mount("https://", _ContextAdapter(context))
    session.headers["User-Agent"] = USER_AGENT
    return session


def _get_once(
    plan: HttpPlan, deadline: Deadline, redactor: Redactor, started_ms: float
) -> HttpAttempt:
    watch = Stopwatch()
    timeouts = (deadline.clip(plan.connect_timeout), deadline.clip(plan.read_timeout))
    try:
        with (
            _session(plan.ssl_context) as session,
            session.get(
                plan.url,
                headers=dict(plan.headers),
                timeout=timeouts,
                allow_redirects=False,
                stream=True,
            ) as response,
        ):
            body = bytearray()
            truncated = False
            for chunk in response.iter_content(_CHUNK):
                body += chunk
                if len(body) > plan.body_limit:
                    truncated = True
                    break
                if deadline.expired():
                    return HttpAttempt(
                        started_ms,
                        watch.ms(),
                        error=ProbeError("deadline", "the body was still arriving at the deadline"),
                    )
            headers = dict(list(response.headers.items())[:_KEPT_HEADERS])
            text = bytes(body[: plan.body_limit]).decode(response.encoding or "utf-8", "replace")
            recorded = HttpResponse(
                status=response.status_code,
                reason=redactor.text(response.reason or ""),
                headers=redactor.headers(headers),
                body=redactor.text(text),
                body_bytes=len(body),
                body_truncated=truncated,
            )
            return HttpAttempt(started_ms, watch.ms(), response=recorded)
    except requests.RequestException as exc:
        error = from_requests(exc, redactor)
        if error.kind in ("connect_timeout", "read_timeout") and deadline.expired():
            error = ProbeError("deadline", error.message)
        return HttpAttempt(started_ms, watch.ms(), error=error)


async def probe_http(plan: HttpPlan, deadline: Deadline, redactor: Redactor) -> HttpTranscript:
    """GET ``plan.url``, retrying cold-start outcomes, and return the transcript."""
    watch = Stopwatch()

    async def attempt() -> HttpAttempt:
        started_ms = deadline.elapsed_ms()
        hard_limit = deadline.remaining()
        try:
            async with asyncio.timeout(hard_limit):
                return await blocking(_get_once, plan, deadline, redactor, started_ms)
        except TimeoutError:
            return HttpAttempt(
                started_ms,
                round(hard_limit * 1000.0, 1),
                error=ProbeError("deadline", "no complete answer before the run's deadline"),
            )

    attempts = await with_retries(attempt, plan.retry, deadline)
    return HttpTranscript("GET", plan.url, tuple(attempts), watch.ms())
