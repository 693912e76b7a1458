"""Which probe outcomes are worth retrying, and nothing else.

A Cloud Run revision that is scaling from zero refuses connections, or its
front end answers 429 or its 500/503 page for a few seconds; a proxy in front
answers 502/504. Those outcomes are retried (the probes loop,
:mod:`gate.probes.retry`). When the gate fetched the ID token itself
(``--iam``), the front end's 401/403 are retried too: IAM changes take up to
minutes to apply. Every other outcome is deterministic and final: retrying
the app's own 403, a 1011, or an h2c reset would only delay the verdict. Each
function returns ``None`` for a final outcome, else the delay the server asked
for in seconds (``0.0`` when it named none).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from gate.checks.frontend import front_end_answer
from gate.checks.healthdoc import read_health
from gate.matching import parse_json
from gate.probes.transcript import HttpAttempt, WsAttempt, header_of

COLD_START_STATUSES = frozenset({429, 502, 503, 504})
_RETRIED_FRONT_END = frozenset({"frontend_rate_limited", "revision_unavailable"})
_IAM = frozenset({"iam_denied", "iam_token_rejected"})


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


def _answer_delay(status: int, headers: Mapping[str, str], body: str, iam: bool) -> float | None:
    requested = parse_retry_after(header_of(headers, "Retry-After"))
    answer = front_end_answer(status, headers, body)
    if answer is not None:
        retried = answer.diagnosis in _RETRIED_FRONT_END or (iam and answer.diagnosis in _IAM)
        return requested if retried else None
    return requested if status in COLD_START_STATUSES else None


def http_retry_delay(attempt: HttpAttempt, iam: bool = False) -> float | None:
    """A refused connection, or a cold-start answer that is not the app's health document."""
    if attempt.error is not None:
        return 0.0 if attempt.error.kind == "connect_refused" else None
    response = attempt.response
    if response is None:
        return None
    # Cloud Run routes to an instance only once it has started; a 503 that
    # carries the application's own health document is its answer, not a cold start.
    if read_health(parse_json(response.body), response.content_type) is not None:
        return None
    return _answer_delay(response.status, response.headers, response.body, iam)


def ws_retry_delay(attempt: WsAttempt, iam: bool = False) -> float | None:
    """A refused connection, or an upgrade refused with a cold-start answer."""
    error = attempt.error
    if error is None:
        return None
    if error.kind == "connect_refused":
        return 0.0
    handshake = attempt.handshake
    if error.kind != "upgrade_status" or handshake is None:
        return None
    return _answer_delay(handshake.status, handshake.headers, handshake.body, iam)
