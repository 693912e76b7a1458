"""The public contract, pinned: check ids, diagnosis and warning codes, exit codes, report schema.

Changing any of these breaks pipelines that parse the gate's output; a failure
here means the README and CHANGELOG must change too, and only additions are allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gate.errors import ExitCode
from gate.model import CHECK_IDS, DIAGNOSES, WARNING_CODES
from tests.conftest import SECRET, GateRun


def test_check_ids() -> None:
    assert CHECK_IDS == (
        "http.health",
        "ws.upgrade",
        "ws.subprotocol",
        "ws.first_message",
        "ws.auth_enforced",
    )


def test_diagnosis_codes() -> None:
    assert set(DIAGNOSES) >= {
        "dns_failure", "connect_refused", "connect_timeout", "tls_error", "read_timeout",
        "protocol_error", "http_status", "health_body_invalid", "health_status_unhealthy",
        "health_dependency_unhealthy", "upgrade_rejected", "upgrade_not_supported",
        "handshake_invalid", "subprotocol_not_selected", "subprotocol_unexpected",
        "closed_by_server", "server_error_close", "first_message_timeout", "message_too_large",
        "auth_not_enforced", "deadline_exceeded", "log_errors_found", "scenario_step_timeout",
        "scenario_out_of_order", "concurrency_failed", "latency_budget_exceeded",
        "frontend_rate_limited", "revision_unavailable", "upstream_reset", "iam_denied",
        "iam_token_rejected", "upstream_unavailable", "credential_rejected", "message_wrong_type",
        "empty_reply", "revision_not_ready", "canary_error_rate_exceeded",
        "canary_latency_exceeded", "metrics_insufficient", "config_h2c_breaks_websocket",
        "config_unsuited", "session_cut", "scenario_not_delivered", "canary_metric_failed",
    }  # fmt: skip


def test_verify_and_optional_check_ids() -> None:
    from gate.model import OPTIONAL_CHECK_IDS, VERIFY_CHECK_IDS

    # revision.config (0.3.0) judges the revision's settings; ws.hold (0.3.0) a held socket.
    assert ("revision.ready", "revision.config", *CHECK_IDS, "logs.errors") == VERIFY_CHECK_IDS
    assert OPTIONAL_CHECK_IDS == ("ws.scenario", "ws.concurrency", "latency", "ws.hold")


def test_warning_codes() -> None:
    assert set(WARNING_CODES) >= {
        "credential_echoed", "health_degraded", "notification_failed",
        "config_timeout_cuts_sessions", "config_cpu_throttled", "config_capacity_below",
    }  # fmt: skip
    from gate.model import NOTE_CODES

    assert set(NOTE_CODES) >= {"config_no_session_affinity", "config_cold_start_unboosted"}


def test_exit_codes() -> None:
    assert (ExitCode.PASS, ExitCode.FAIL, ExitCode.USAGE, ExitCode.GATE) == (0, 1, 2, 3)


def test_exit_code_enum_is_the_whole_table() -> None:
    assert {code.name: code.value for code in ExitCode} == {
        "PASS": 0, "FAIL": 1, "USAGE": 2, "GATE": 3, "INTERRUPTED": 130, "TERMINATED": 143,
    }  # fmt: skip


def test_report_schema(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    run = gate("check", sandbox().url, env={"GATE_JWT_SECRET": SECRET})
    report = run.report
    assert report is not None
    assert report["schema"] == "gate.report/v1"
    assert set(report) >= {
        "schema", "verdict", "exit_code", "target", "run_id", "started_at",
        "duration_ms", "checks", "warnings",
    }  # fmt: skip
    assert report["verdict"] in ("pass", "fail", "error")
    assert report["exit_code"] == run.exit_code
    assert set(report["target"]) >= {"url", "ws_url", "health_urls", "credential"}
    assert [c["id"] for c in report["checks"]] == list(CHECK_IDS)
    for check in report["checks"]:
        assert set(check) >= {
            "id", "status", "diagnosis", "summary", "hint", "duration_ms", "attempts", "evidence",
        }  # fmt: skip
        assert check["status"] in ("pass", "fail", "warn", "skip")
    for warning in report["warnings"]:
        assert set(warning) == {"code", "message"}
    assert report["revision_config"] is None  # gate check reads no revision


def test_verify_reports_the_revision_config_block(
    cloud: Any, gate_cloud: Callable[..., GateRun], monkeypatch: Any
) -> None:
    from tests.conftest import NEW

    monkeypatch.setenv("GATE_JWT_SECRET", SECRET)
    cloud.deploy(NEW)
    run = gate_cloud("verify", "--subprotocol", "chat.v1", "--log-settle", "0.2")
    assert run.report is not None
    assert [c["id"] for c in run.report["checks"]][:2] == ["revision.ready", "revision.config"]
    block = run.report["revision_config"]
    assert set(block) == {
        "revision", "timeout_s", "ports", "cpu_idle", "startup_cpu_boost", "concurrency",
        "min_instances", "max_instances", "capacity", "session_affinity", "findings",
    }  # fmt: skip
    for finding in block["findings"]:
        assert set(finding) == {"code", "severity", "field", "value", "effect", "fix"}
        assert finding["severity"] in ("failure", "warning", "note")
    assert run.report["config"] is None  # the config file's key keeps its meaning
