"""``gate.checks.retry``: which probe outcomes are retried, on hand-built attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from gate.checks.retry import http_retry_delay, parse_retry_after, ws_retry_delay
from gate.probes.transcript import HttpAttempt, HttpResponse, ProbeError, WsAttempt

GOOGLE_503 = "<html><title>503 Server Error</title><h1>Error: Server Error</h1></html>"


def _answer(status: int, body: str = "", **headers: str) -> HttpAttempt:
    response = HttpResponse(status, "", {"server": "Google Frontend", **headers}, body,
                            len(body), False)  # fmt: skip
    return HttpAttempt(0.0, 1.0, response=response)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 0.0), ("", 0.0), ("7", 7.0), ("-3", 0.0), ("soon", 0.0)],
)
def test_retry_after(value: str | None, seconds: float) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_as_a_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < parse_retry_after(later) <= 30


@pytest.mark.parametrize(
    ("attempt", "iam", "delay"),
    [
        (HttpAttempt(0, 1, error=ProbeError("connect_refused", "refused")), False, 0.0),
        (HttpAttempt(0, 1, error=ProbeError("read_timeout", "slow")), False, None),
        (_answer(429, "Rate exceeded.", **{"Retry-After": "2"}), False, 2.0),
        (_answer(503, GOOGLE_503), False, 0.0),
        (_answer(502), False, 0.0),
        (_answer(500, '{"error": "boom"}'), False, None),
        (_answer(404), False, None),
        (_answer(503, '{"status": "unhealthy"}'), False, None),  # the app's own health answer
        (HttpAttempt(0, 1), False, None),  # neither an answer nor an error: nothing to go on
    ],
    ids=[
        "refused",
        "timeout",
        "429",
        "google-503",
        "502",
        "app-500",
        "404",
        "app-health-503",
        "nothing",
    ],
)
def test_http_outcomes(attempt: HttpAttempt, iam: bool, delay: float | None) -> None:
    assert http_retry_delay(attempt, iam) == delay


def test_a_websocket_upgrade_refused_by_a_cold_start_is_retried() -> None:
    refused = WsAttempt(0, 1, None, error=ProbeError("connect_refused", "refused"))
    assert ws_retry_delay(refused) == 0.0
    closed = WsAttempt(0, 1, 1.0, error=ProbeError("server_error_close", "1011"))
    assert ws_retry_delay(closed) is None
    assert ws_retry_delay(WsAttempt(0, 1, 1.0)) is None
