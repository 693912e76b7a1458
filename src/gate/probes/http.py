"""HTTP probe: one GET with requests, redirects not followed, body capped.

requests is blocking, so each request runs in a daemon thread under the
run's deadline (:func:`gate.timing.run_blocking`); connect and read timeouts
are split like requests' ``(connect, read)`` tuple and clipped to the deadline.
The body is read in chunks up to a cap, so an endless stream ends as a
truncated body instead of a hang.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from gate import __version__
from gate.healthdoc import read_health
from gate.matching import parse_json
from gate.probes.errors import from_requests
from gate.probes.retry import COLD_START_STATUSES, RetryPolicy, with_retries
from gate.probes.transcript import HttpAttempt, HttpResponse, HttpTranscript, ProbeError
from gate.redact import Redactor
from gate.timing import Deadline, Stopwatch, run_blocking

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
    retry: RetryPolicy
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


def retry_after_seconds(attempt: HttpAttempt) -> float | None:
    """``None`` when the outcome is final; the requested delay for a cold-start outcome."""
    if attempt.error is not None:
        return 0.0 if attempt.error.kind == "connect_refused" else None
    response = attempt.response
    if response is None or response.status not in COLD_START_STATUSES:
        return None
    # Cloud Run routes to an instance only once it has started; a 503 that
    # carries the application's own health document is its answer, not a cold start.
    if read_health(parse_json(response.body), response.content_type) is not None:
        return None
    return parse_retry_after(response.header("Retry-After"))


def parse_retry_after(value: str | None) -> float:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); 0 when absent."""
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 0.0


async def probe_http(plan: HttpPlan, deadline: Deadline, redactor: Redactor) -> HttpTranscript:
    """GET ``plan.url``, retrying cold-start outcomes, and return the transcript."""
    watch = Stopwatch()

    async def attempt() -> HttpAttempt:
        started_ms = deadline.elapsed_ms()
        hard_limit = deadline.remaining()
        try:
            return await run_blocking(
                lambda: _get_once(plan, deadline, redactor, started_ms), hard_limit
            )
        except TimeoutError:
            return HttpAttempt(
                started_ms,
                round(hard_limit * 1000.0, 1),
                error=ProbeError("deadline", "no complete answer before the run's deadline"),
            )

    attempts = await with_retries(attempt, retry_after_seconds, plan.retry, deadline)
    return HttpTranscript("GET", plan.url, tuple(attempts), watch.ms())
