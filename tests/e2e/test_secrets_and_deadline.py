"""Secrets never leave the gate, and the deadline holds against a server that never answers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from gate.config.tokens import b64url
from tests.conftest import SECRET, GateRun

HEADER_SECRET = "header-value-that-must-stay-hidden-42"


def _assert_hidden(run: GateRun, secrets: list[str]) -> None:
    assert run.report is not None
    texts = {"stdout": run.stdout, "stderr": run.stderr, "report": json.dumps(run.report)}
    for secret in secrets:
        for where, text in texts.items():
            assert secret not in text, f"a secret leaked into {where}"


@pytest.mark.parametrize(
    ("fault", "exit_code"),
    [
        ("none", 0),
        ("echo-credential", 0),
        ("auth-not-enforced", 1),
        ("crash", 1),
        ("reject-upgrade", 1),
    ],
)
def test_minted_token_and_secret_never_appear(
    sandbox: Any, gate_process: Callable[..., GateRun], fault: str, exit_code: int
) -> None:
    server = sandbox(fault=fault)
    run = gate_process(
        "check",
        server.url,
        "--header",
        f"X-Api-Key: {HEADER_SECRET}",
        env={"GATE_JWT_SECRET": SECRET},
    )
    assert run.exit_code == exit_code, run.stdout + run.stderr
    minted = server.service.tokens_seen
    assert minted, "the sandbox saw no token: the test would prove nothing"
    secrets = [SECRET, HEADER_SECRET, *minted, *(b64url(t) for t in minted)]
    _assert_hidden(run, secrets)
    if fault == "echo-credential":
        assert "credential_echoed" in run.stdout


def test_ready_token_never_appears(sandbox: Any, gate_process: Callable[..., GateRun]) -> None:
    server = sandbox(fault="crash")
    token = jwt.encode({"sub": "ci", "exp": int(time.time()) + 300}, SECRET, algorithm="HS256")
    run = gate_process("check", server.url, env={"GATE_TOKEN": token})
    assert run.exit_code == 1
    seen = server.service.tokens_seen
    assert token in seen, "the sandbox never saw the ready token: the test would prove nothing"
    _assert_hidden(run, [*seen, *(b64url(t) for t in seen)])


def test_deadline_holds_against_a_server_that_never_answers(
    sandbox: Any, gate_process: Callable[..., GateRun]
) -> None:
    server = sandbox(fault="hang")
    started = time.monotonic()
    run = gate_process(
        "check",
        server.url,
        "--deadline",
        "2",
        "--read-timeout",
        "30",
        "--message-timeout",
        "30",
        env={"GATE_JWT_SECRET": SECRET},
    )
    elapsed = time.monotonic() - started
    assert run.exit_code == 1
    assert run.report is not None
    assert run.report["duration_ms"] <= 3000
    # The process also pays for interpreter start-up, which is not part of the run.
    assert elapsed < 2 + 1 + 1.5
    diagnoses = {c["diagnosis"] for c in run.report["checks"] if c["status"] == "fail"}
    assert diagnoses == {"deadline_exceeded"}
