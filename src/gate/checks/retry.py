"""Which probe outcomes are worth retrying: what a cold start produces, and nothing else.

A Cloud Run revision that is scaling from zero refuses connections or answers
429/502/503/504 for a few seconds. Those outcomes are retried (the probes loop,
:mod:`gate.probes.retry`); every other outcome is deterministic and final:
retrying a 403 or a 1011 would only delay the verdict. Each function returns
``None`` for a final outcome, else the delay the server asked for in seconds
(``0.0`` when it named none).
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from gate.checks.healthdoc import read_health
from gate.matching import parse_json
from gate.probes.transcript import HttpAttempt, WsAttempt

COLD_START_STATUSES = frozenset({429, 502, 503, 504})


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


def http_retry_delay(attempt: HttpAttempt) -> float | None:
    """A refused connection, or a cold-start status without the app's own health document."""
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


def ws_retry_delay(attempt: WsAttempt) -> float | None:
    """A refused connection, or an upgrade refused with a cold-start status."""
    error = attempt.error
    if error is None:
        return None
    if error.kind == "connect_refused":
        return 0.0
    handshake = attempt.handshake
    if error.kind == "upgrade_status" and handshake and handshake.status in COLD_START_STATUSES:
        return parse_retry_after(handshake.header("Retry-After"))
    return None
