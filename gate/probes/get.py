"""The blocking GET of the HTTP probe, with requests: run in a worker thread, never on the loop.

Connect and read timeouts are requests' ``(connect, read)`` tuple, clipped to
the deadline. The body is read in chunks up to a cap, so an endless stream ends
as a truncated body instead of a hang. Redirects are not followed.
"""

from __future__ import annotations

import ssl
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from gate.probes.errors import from_requests
from gate.probes.http import USER_AGENT, HttpPlan
from gate.probes.transcript import HttpAttempt, HttpResponse, ProbeError
from gate.redact import Redactor
from gate.timing import Deadline, Stopwatch

_CHUNK = 16 * 1024
_KEPT_HEADERS = 30


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


def _decode(body: bytes, charset: str | None) -> str:
    """The body as text in its declared charset, or UTF-8 when that charset is unknown."""
    try:
        return body.decode(charset or "utf-8", "replace")
    except LookupError:  # e.g. charset=utf8mb4: fall back, as httpx does
        return body.decode("utf-8", "replace")


def get_once(
    plan: HttpPlan, deadline: Deadline, redactor: Redactor, started_ms: float
) -> HttpAttempt:
    """One GET of ``plan.url``: the response (body capped) or the error, as data."""
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
            text = _decode(bytes(body[: plan.body_limit]), response.encoding)
            recorded = HttpResponse(
                status=response.status_code,
                reason=redactor.record(response.reason or ""),
                headers=redactor.headers(headers),
                body=redactor.record(text),
                body_bytes=len(body),
                body_truncated=truncated,
            )
            return HttpAttempt(started_ms, watch.ms(), response=recorded)
    except requests.RequestException as exc:
        error = from_requests(exc, redactor)
        if error.kind in ("connect_timeout", "read_timeout") and deadline.expired():
            error = ProbeError("deadline", error.message)
        return HttpAttempt(started_ms, watch.ms(), error=error)
