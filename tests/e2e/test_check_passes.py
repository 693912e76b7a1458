"""Healthy services pass, on the sandbox and on a second stack (aiohttp), with every format."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.aiohttp_app import IETF, IETF_WARN, SPRING, SPRING_DOWN, make_app
from tests.conftest import SECRET, GateRun
from tests.servers import AiohttpServer, self_signed

ENV = {"GATE_JWT_SECRET": SECRET}
PLAIN = ["--subprotocol", "chat.v1", "--expect-subprotocol", "chat.v1"]


def test_healthy_sandbox_passes_every_check(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    server = sandbox()
    run = gate("check", server.url, *PLAIN, "--expect", '{"type": "pong"}', env=ENV)
    assert run.exit_code == 0, run.stdout
    assert run.report is not None
    assert run.report["verdict"] == "pass"
    assert [c["status"] for c in run.report["checks"]] == ["pass"] * 5
    for check in run.report["checks"]:
        assert check["duration_ms"] > 0, check
    auth = run.check("ws.auth_enforced")
    outcomes = {v["credential"]: v["outcome"] for v in auth["evidence"]["variants"]}
    # Issue 10 added the unsigned (alg: none) token to no credential, wrong key and expired.
    assert outcomes == {
        "no credential": "refused",
        "token signed by a wrong key": "refused",
        "expired token": "refused",
        "unsigned token (alg: none)": "refused",
    }
    assert "verdict: PASS (exit 0)" in run.stdout


def test_credential_subprotocol_selected_is_a_warning_not_a_failure(
    sandbox: Any, gate: Callable[..., GateRun]
) -> None:
    server = sandbox()
    run = gate("check", server.url, env=ENV)
    assert run.exit_code == 0
    assert run.check("ws.subprotocol")["status"] == "warn"
    assert run.report is not None
    assert [w["code"] for w in run.report["warnings"]] == ["credential_echoed"]
    strict = gate("check", server.url, "--strict", env=ENV)
    assert strict.exit_code == 1
    assert strict.report is not None
    assert strict.report["verdict"] == "fail"


def test_expecting_another_subprotocol_turns_the_echo_into_a_failure(
    sandbox: Any, gate: Callable[..., GateRun]
) -> None:
    server = sandbox(fault="echo-credential")
    run = gate("check", server.url, *PLAIN, env=ENV)
    assert run.exit_code == 1
    check = run.check("ws.subprotocol")
    assert check["diagnosis"] == "subprotocol_unexpected"


def test_other_stack_with_spring_health_passes(gate: Callable[..., GateRun]) -> None:
    with AiohttpServer(make_app(SECRET, SPRING)) as server:
        run = gate("check", server.url, *PLAIN, "--expect", "aiohttp", env=ENV)
    assert run.exit_code == 0, run.stdout
    health = run.check("http.health")["evidence"]["requests"][0]["health"]
    assert health["dependencies"]["cache/primary"] == "UP"


def test_other_stack_with_ietf_health_passes(gate: Callable[..., GateRun]) -> None:
    with AiohttpServer(make_app(SECRET, IETF)) as server:
        run = gate("check", server.url, *PLAIN, env=ENV)
    assert run.exit_code == 0, run.stdout
    assert run.check("http.health")["evidence"]["requests"][0]["health"]["format"] == "health+json"


def test_other_stack_spring_nested_component_down_is_named(gate: Callable[..., GateRun]) -> None:
    with AiohttpServer(make_app(SECRET, SPRING_DOWN, health_status=503)) as server:
        run = gate("check", server.url, *PLAIN, "--retry-budget", "0", env=ENV)
    check = run.check("http.health")
    assert check["diagnosis"] == "health_dependency_unhealthy"
    assert "cache/replica" in check["summary"]


def test_other_stack_ietf_warn_is_a_degraded_warning(gate: Callable[..., GateRun]) -> None:
    with AiohttpServer(make_app(SECRET, IETF_WARN)) as server:
        run = gate("check", server.url, *PLAIN, env=ENV)
    assert run.exit_code == 0
    assert run.report is not None
    assert [w["code"] for w in run.report["warnings"]] == ["health_degraded"]


def test_other_stack_crash_close_is_named(gate: Callable[..., GateRun]) -> None:
    with AiohttpServer(make_app(SECRET, SPRING, close_code=1011)) as server:
        run = gate("check", server.url, *PLAIN, env=ENV)
    check = run.check("ws.first_message")
    assert check["diagnosis"] == "server_error_close"
    assert "1011 (internal error)" in check["summary"]


def test_other_stack_refuses_bad_credentials(gate: Callable[..., GateRun]) -> None:
    with AiohttpServer(make_app(SECRET, SPRING)) as server:
        run = gate("check", server.url, *PLAIN, env=ENV)
    auth = run.check("ws.auth_enforced")
    assert auth["status"] == "pass"
    assert "HTTP 401" in auth["summary"]


def test_tls_with_ca_bundle_passes(gate: Callable[..., GateRun], tmp_path: Path) -> None:
    context, ca = self_signed(tmp_path)
    with AiohttpServer(make_app(SECRET, SPRING), context) as server:
        run = gate("check", server.url, *PLAIN, "--ca-bundle", str(ca), env=ENV)
    assert run.exit_code == 0, run.stdout
    assert run.report is not None
    assert run.report["target"]["ws_url"].startswith("wss://")


def test_cold_start_is_retried_and_every_attempt_recorded(
    sandbox: Any, gate: Callable[..., GateRun]
) -> None:
    server = sandbox(fault="cold-start", cold_start_s=1.0)
    run = gate("check", server.url, *PLAIN, env=ENV)
    assert run.exit_code == 0, run.stdout
    health = run.check("http.health")
    assert health["attempts"] > 1
    statuses = [a["status"] for a in health["evidence"]["requests"][0]["attempts"]]
    assert statuses[0] == 503
    assert statuses[-1] == 200
    assert run.check("ws.upgrade")["attempts"] > 1


def test_cold_start_beyond_the_retry_budget_fails(
    sandbox: Any, gate: Callable[..., GateRun]
) -> None:
    server = sandbox(fault="cold-start", cold_start_s=30.0)
    run = gate("check", server.url, "--retry-budget", "0.5", env=ENV)
    assert run.exit_code == 1
    assert run.check("http.health")["diagnosis"] == "http_status"
    assert run.check("ws.upgrade")["diagnosis"] == "upgrade_rejected"


def test_deterministic_failures_are_not_retried(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    server = sandbox(fault="reject-upgrade")
    run = gate("check", server.url, env=ENV)
    assert run.check("ws.upgrade")["attempts"] == 1


def test_application_503_with_health_document_is_not_retried(
    sandbox: Any, gate: Callable[..., GateRun]
) -> None:
    server = sandbox(fault="dependency-unhealthy")
    started = time.monotonic()
    run = gate("check", server.url, env=ENV)
    assert time.monotonic() - started < 5
    assert run.check("http.health")["attempts"] == 1


def test_independent_checks_run_concurrently(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    """A silent socket costs one message timeout, not one per negative credential."""
    server = sandbox(fault="silent")
    started = time.monotonic()
    run = gate("check", server.url, "--message-timeout", "1", env=ENV)
    elapsed = time.monotonic() - started
    assert run.check("ws.first_message")["diagnosis"] == "first_message_timeout"
    assert elapsed < 2.5


def test_no_send_listens_only(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    server = sandbox()
    run = gate("check", server.url, "--no-send", "--message-timeout", "0.3", env=ENV)
    check = run.check("ws.first_message")
    assert check["diagnosis"] == "first_message_timeout"
    assert check["evidence"]["sent"] is None
    assert "after the upgrade" in check["summary"]


def test_expect_skips_non_matching_messages(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    server = sandbox()
    run = gate(
        "check",
        server.url,
        *PLAIN,
        "--send",
        '{"type": "user_message", "text": "hi"}',
        "--expect",
        '{"type": "agent_completed"}',
        env=ENV,
    )
    assert run.exit_code == 0, run.stdout
    messages = run.check("ws.first_message")["evidence"]["messages"]
    # Four agent events and four heartbeats arrive before agent_completed.
    assert [m["matched"] for m in messages] == [False] * 8 + [True]


def test_unmatched_expectation_lists_what_arrived(
    sandbox: Any, gate: Callable[..., GateRun]
) -> None:
    server = sandbox()
    run = gate("check", server.url, "--expect", "never-sent", "--message-timeout", "0.5", env=ENV)
    check = run.check("ws.first_message")
    assert check["diagnosis"] == "first_message_timeout"
    assert "pong" in check["summary"]


def test_several_health_paths_name_the_failing_one(
    sandbox: Any, gate: Callable[..., GateRun]
) -> None:
    server = sandbox()
    run = gate("check", server.url, "--health-path", "/health", "--health-path", "/nope", env=ENV)
    check = run.check("http.health")
    assert check["diagnosis"] == "http_status"
    assert "/nope" in check["summary"]
    assert len(check["evidence"]["requests"]) == 2


def test_expect_body_subset(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    server = sandbox()
    ok = gate("check", server.url, "--expect-body", '{"service": "netra-ai-platform"}', env=ENV)
    assert ok.check("http.health")["status"] == "pass"
    bad = gate("check", server.url, "--expect-body", '{"version": "2.0.0"}', env=ENV)
    assert bad.check("http.health")["diagnosis"] == "health_body_invalid"


def test_without_credential_auth_and_subprotocol_are_skipped_not_passed(
    sandbox: Any, gate: Callable[..., GateRun]
) -> None:
    server = sandbox(secret=None)
    run = gate("check", server.url)
    assert run.exit_code == 0
    assert run.check("ws.subprotocol")["status"] == "skip"
    auth = run.check("ws.auth_enforced")
    assert auth["status"] == "skip"
    assert auth["duration_ms"] == 0
    assert "SKIP  ws.auth_enforced" in run.stdout


@pytest.mark.parametrize("path", ["/api/health"])
def test_alternative_health_path(sandbox: Any, gate: Callable[..., GateRun], path: str) -> None:
    server = sandbox()
    run = gate("check", server.url, "--health-path", path, env=ENV)
    assert run.check("http.health")["status"] == "pass"
