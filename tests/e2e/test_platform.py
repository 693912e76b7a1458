"""Cloud Run's front end, IAM and forged credentials, against real servers on 127.0.0.1.

The sandbox's front-end faults give the same diagnoses as the test-only front end
(tests/frontend.py); retries follow the platform's meaning (IAM refusals only with
--iam); the negative sessions of ws.auth_enforced include unsigned tokens and, when
the gate mints with an audience or issuer, correctly signed tokens for others.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gate.checks.retry import http_retry_delay, ws_retry_delay
from gate.probes.transcript import Handshake, HttpAttempt, HttpResponse, WsAttempt
from gate.sandbox.frontend import forbidden_page, not_ready_page
from tests.conftest import SECRET, GateRun
from tests.frontend import FrontEnd, h2c_reset, on_paths, server_error_500
from tests.servers import CloudThread, TokenEndpoint

ENV = {"GATE_JWT_SECRET": SECRET}
PLAIN = ["--subprotocol", "chat.v1", "--expect-subprotocol", "chat.v1"]


@pytest.mark.parametrize(
    ("fault", "check_id", "diagnosis"),
    [
        ("rate-limited", "ws.upgrade", "frontend_rate_limited"),
        ("not-ready-page", "http.health", "revision_unavailable"),
        ("h2c-reset", "ws.upgrade", "upstream_reset"),
        ("iam-forbidden", "http.health", "iam_denied"),
        ("iam-token-rejected", "ws.upgrade", "iam_token_rejected"),
        ("bad-gateway", "http.health", "upstream_unavailable"),
        ("close-1008", "ws.first_message", "credential_rejected"),
        ("binary-reply", "ws.first_message", "message_wrong_type"),
        ("empty-reply", "ws.upgrade", "empty_reply"),
    ],
)
def test_sandbox_reproduces_each_platform_and_app_fault(
    sandbox: Any, gate: Callable[..., GateRun], fault: str, check_id: str, diagnosis: str
) -> None:
    run = gate("check", sandbox(fault=fault).url, *PLAIN, "--retry-budget", "0.3", env=ENV)
    assert run.exit_code == 1, run.stdout
    assert run.check(check_id)["diagnosis"] == diagnosis


def test_front_end_answer_carries_google_header_in_evidence(
    sandbox: Any, gate: Callable[..., GateRun]
) -> None:
    with FrontEnd(sandbox().sandbox.port, on_paths(h2c_reset, "/ws")) as front:
        run = gate("check", front.url, *PLAIN, env=ENV)
    assert run.check("http.health")["status"] == "pass"
    assert run.check("http.health")["evidence"]["requests"][0]["server"] == "Google Frontend"
    upgrade = run.check("ws.upgrade")
    assert upgrade["evidence"]["response_headers"]["server"] == "Google Frontend"
    assert "end-to-end HTTP/2" in upgrade["hint"]
    assert upgrade["attempts"] == 1  # an h2c reset is deterministic: not retried


def test_app_errors_behind_the_front_end_keep_their_codes(
    sandbox: Any, gate: Callable[..., GateRun]
) -> None:
    """The header alone proves nothing: the app's own 503 health document stays the app's."""
    app = sandbox(fault="dependency-unhealthy")
    with FrontEnd(app.sandbox.port, lambda _request: None) as front:
        run = gate("check", front.url, *PLAIN, env=ENV)
    health = run.check("http.health")
    assert health["evidence"]["requests"][0]["server"] == "Google Frontend"
    assert health["diagnosis"] == "health_dependency_unhealthy"


def test_front_end_500_page_is_retried_then_named(
    sandbox: Any, gate: Callable[..., GateRun]
) -> None:
    with FrontEnd(sandbox().sandbox.port, on_paths(server_error_500, "/health")) as front:
        run = gate("check", front.url, *PLAIN, "--retry-budget", "0.6", env=ENV)
    health = run.check("http.health")
    assert health["diagnosis"] == "revision_unavailable"
    assert health["attempts"] > 1


def test_a_cold_revision_behind_the_front_end_passes_once_it_serves(
    sandbox: Any, gate: Callable[..., GateRun]
) -> None:
    """The front end's 503 page while no instance is ready is retried like a cold start."""
    app = sandbox(fault="not-ready-page", fault_for_s=0.8)
    run = gate("check", app.url, *PLAIN, env=ENV)
    assert run.exit_code == 0, run.stdout
    assert run.check("http.health")["attempts"] > 1


def test_iam_refusal_is_not_retried_without_iam(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    app = sandbox(fault="iam-forbidden", fault_for_s=30)
    run = gate("check", app.url, *PLAIN, env=ENV)
    assert run.check("http.health")["diagnosis"] == "iam_denied"
    assert run.check("http.health")["attempts"] == 1
    assert run.check("ws.upgrade")["attempts"] == 1


def _http(status: int, body: str, headers: dict[str, str] | None = None) -> HttpAttempt:
    response = HttpResponse(status, "", headers or {}, body, len(body), False)
    return HttpAttempt(0.0, 1.0, response=response)


def test_retry_decisions_follow_the_platform() -> None:
    assert http_retry_delay(_http(429, "Rate exceeded.")) == 0.0
    assert http_retry_delay(_http(503, not_ready_page(), {"Retry-After": "2"})) == 2.0
    assert http_retry_delay(_http(403, forbidden_page("/health"))) is None
    assert http_retry_delay(_http(403, forbidden_page("/health")), iam=True) == 0.0
    assert http_retry_delay(_http(403, '{"error": "forbidden"}'), iam=True) is None
    assert http_retry_delay(_http(500, "Internal Server Error")) is None
    h2c = Handshake(503, {}, "upstream connect error or disconnect/reset before headers")
    assert ws_retry_delay(WsAttempt(0.0, 1.0, 1.0, h2c, error=None)) is None


def test_unsigned_token_accepted_is_named_first(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    run = gate("check", sandbox(fault="accepts-alg-none").url, *PLAIN, env=ENV)
    auth = run.check("ws.auth_enforced")
    assert auth["diagnosis"] == "auth_not_enforced"
    assert auth["summary"].startswith("the socket accepted an UNSIGNED token (alg: none)")
    assert "unsigned token (alg: none): replied" in auth["summary"]


def test_tokens_for_another_audience_and_issuer(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    claims = ["--jwt-audience", "chat-api", "--jwt-issuer", "ci"]
    healthy = sandbox(audience="chat-api", issuer="ci")
    run = gate("check", healthy.url, *PLAIN, *claims, env=ENV)
    assert run.exit_code == 0, run.stdout
    labels = [v["credential"] for v in run.check("ws.auth_enforced")["evidence"]["variants"]]
    assert labels == [
        "no credential", "token signed by a wrong key", "expired token",
        "unsigned token (alg: none)", "token for another audience", "token from another issuer",
    ]  # fmt: skip
    lax = sandbox(audience="chat-api", issuer="ci", fault="ignores-claims")
    run = gate("check", lax.url, *PLAIN, *claims, env=ENV)
    auth = run.check("ws.auth_enforced")
    assert auth["diagnosis"] == "auth_not_enforced"
    assert "token for another audience: replied" in auth["summary"]
    assert "token from another issuer: replied" in auth["summary"]
    assert "UNSIGNED" not in auth["summary"]


def test_iam_fetches_an_id_token_and_waits_for_the_binding(
    private_cloud: tuple[CloudThread, TokenEndpoint], gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    """With --iam, front-end 403s are retried while the IAM binding propagates."""
    cloud, tokens = private_cloud
    cloud.deploy("svc-00002-new", "iam-forbidden", fault_for_s=1.0)
    report = tmp_path / "iam.json"
    run = gate(
        "verify", "--project", "demo-project", "--region", "europe-west1", "--service", "svc",
        *PLAIN, "--iam", "--log-settle", "0.2", "--report-json", str(report),
    )  # fmt: skip
    data = json.loads(report.read_text())
    checks = {c["id"]: c for c in data["checks"]}
    assert run.exit_code == 0, run.stdout + run.stderr
    assert checks["http.health"]["attempts"] > 1
    assert "IAM changes take" in checks["ws.upgrade"]["evidence"]["retries"]
    assert tokens.audiences == [cloud.local.url]  # the service URL is the audience
    text = run.stdout + run.stderr + report.read_text()
    assert tokens.issued
    for token in tokens.issued:
        assert token not in text
