"""``gate.checks.network``: one diagnosis and hint per kind of connection failure."""

from __future__ import annotations

import pytest

from gate.checks.network import network_failure
from gate.probes.transcript import ProbeError

CASES = [
    ("dns_failure", "dns_failure", "does not resolve"),
    ("connect_refused", "connect_refused", "nothing accepts connections"),
    ("connect_timeout", "connect_timeout", "never accepted the TCP connection"),
    ("tls_error", "tls_error", "verification is never turned off"),
    ("read_timeout", "read_timeout", "did not answer in time"),
    ("protocol_error", "protocol_error", "expected protocol"),
    ("empty_reply", "empty_reply", "without a byte of an answer"),
    ("deadline", "deadline_exceeded", "raise --deadline"),
    ("message_too_large", "message_too_large", "--max-message-size"),
    ("upgrade_status", "protocol_error", "expected protocol"),  # any other kind
]


@pytest.mark.parametrize(("kind", "diagnosis", "hint"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_has_its_diagnosis_and_hint(kind: str, diagnosis: str, hint: str) -> None:
    error = ProbeError(kind, "what happened")  # type: ignore[arg-type]
    result = network_failure("http.health", error, "GET /health", 12.0, 1, {"x": 1})
    assert (result.status, result.diagnosis) == ("fail", diagnosis)
    assert result.hint is not None
    assert hint in result.hint
    assert result.summary == "GET /health: what happened"
    assert result.evidence == {"x": 1}


def test_attempts_are_named_when_retried() -> None:
    error = ProbeError("connect_refused", "refused")
    result = network_failure("ws.upgrade", error, "upgrade", 3000.0, 4, {})
    assert result.summary == "upgrade: refused after 4 attempts"
    assert result.attempts == 4
