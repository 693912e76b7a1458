"""``gate.checks.concurrency``: N sockets judged one by one, failures counted, on hand-built sessions."""

from __future__ import annotations

from gate.checks.concurrency import judge_concurrency
from gate.checks.scenario import ScenarioRun
from gate.probes.transcript import (
    Exchange,
    Handshake,
    ProbeError,
    WsAttempt,
    WsClose,
    WsMessage,
    WsSession,
)

PONG = WsMessage(3.0, '{"type": "pong"}', 16, False, True, False)
OPEN = WsAttempt(0.0, 5.0, 1.0, handshake=Handshake(101, {}, ""))


def _session(attempt: WsAttempt = OPEN, exchange: Exchange | None = None) -> WsSession:
    return WsSession("main", "wss://api/ws", ("chat.v1",), None, (attempt,), 5.0, "chat.v1", 0,
                     exchange=exchange)  # fmt: skip


SERVED = _session(exchange=Exchange("ping", 5.0, (PONG,), 0, True))
CRASHED = _session(exchange=Exchange("ping", 5.0, (), 0, False, WsClose(1011, "", "server")))
LIMITED = _session(WsAttempt(0.0, 5.0, 1.0, handshake=Handshake(429, {}, "too many"),
                             error=ProbeError("upgrade_status", "HTTP 429")))  # fmt: skip


def test_seven_of_seven() -> None:
    result = judge_concurrency([SERVED] * 7, '{"type": "pong"}', 40.0)
    assert (result.status, result.summary) == ("pass", "7 of 7 concurrent connections completed")
    assert result.attempts == 7


def test_failures_are_counted_by_diagnosis_and_status() -> None:
    result = judge_concurrency([SERVED] * 4 + [CRASHED] * 2 + [LIMITED], '{"type": "pong"}', 40.0)
    assert (result.status, result.diagnosis) == ("fail", "concurrency_failed")
    assert result.summary.startswith("4 of 7 concurrent connections completed; 3 failed:")
    assert "2 x server_error_close" in result.summary
    assert "(HTTP 429 x 1)" in result.summary
    assert result.evidence["failed_upgrade_statuses"] == {"429": 1}
    assert result.hint is not None
    assert "max-instances" in result.hint


def test_a_scenario_connection_that_never_upgraded_counts_with_the_upgrade_s_diagnosis() -> None:
    refused = ScenarioRun(LIMITED, (), 2, 5.0)
    completed = ScenarioRun(SERVED, (), 0, 5.0)
    result = judge_concurrency([refused, completed], None, 10.0)
    assert (result.status, result.diagnosis) == ("fail", "concurrency_failed")
    assert result.summary.startswith("1 of 2 concurrent connections completed; 1 failed:")
    assert "1 x upgrade_rejected" in result.summary
