"""One run, one deadline: every phase of ``gate verify`` spends the same ``--deadline``.

Secret Manager answers late, the target never answers, and Cloud Logging stalls: the run still
ends at its deadline, and the report names the phases the deadline cut short.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.conftest import NEW, GateRun
from tests.servers import CloudThread

PLAIN = ["--subprotocol", "chat.v1", "--log-settle", "0.2", "--read-timeout", "30"]
SECRET_LATENCY_S = 2.0


def test_every_phase_slow_and_the_run_ends_at_its_deadline(
    cloud: CloudThread,
    gate_cloud: Callable[..., GateRun],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cloud.deploy(NEW, "hang")
    secret = "projects/demo-project/secrets/gate-jwt"
    cloud.emulator.add_secret(secret, "s" * 32)
    monkeypatch.setenv("GATE_JWT_SECRET", "sm://demo-project/gate-jwt")
    cloud.emulator.slow("AccessSecretVersion", SECRET_LATENCY_S)
    cloud.emulator.slow("ListLogEntries", 30.0)
    started = time.monotonic()
    run = gate_cloud("verify", *PLAIN, "--deadline", "5", "--message-timeout", "30")
    elapsed = time.monotonic() - started
    assert elapsed < 6.0, run.stdout + run.stderr
    assert cloud.emulator.calls_to("AccessSecretVersion"), "Secret Manager was never read"
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.report is not None
    assert run.report["duration_ms"] >= SECRET_LATENCY_S * 1000  # the secret's wait counts
    error = run.report["error"]
    assert error is not None
    assert "--deadline of 5 s passed during" in error
    assert "during the probes and reading Cloud Logging" in error
    failed = {c["id"]: c["diagnosis"] for c in run.report["checks"] if c["status"] == "fail"}
    assert set(failed.values()) == {"deadline_exceeded"}, failed
    assert "--deadline of 5 s passed during the probes and reading Cloud Logging" in run.stderr
