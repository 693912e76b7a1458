"""Scenarios, concurrency and latency budgets against real local servers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gate.checks.latency import percentile
from gate.config.scenario import parse_scenario
from gate.config.validate import parse_budget
from gate.errors import ConfigError
from tests.conftest import SECRET, GateRun
from tests.e2e.test_diagnoses import AGENT_SCENARIO

ENV = {"GATE_JWT_SECRET": SECRET}


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "gate.toml"
    path.write_text(AGENT_SCENARIO)
    return path


def test_scenario_passes_with_interleaved_events(
    sandbox: Any, gate: Callable[..., GateRun], scenario_file: Path
) -> None:
    server = sandbox()
    run = gate("check", server.url, "--config", str(scenario_file), env=ENV)
    assert run.exit_code == 0, run.stdout
    check = run.check("ws.scenario")
    assert check["status"] == "pass"
    messages = check["evidence"]["steps"][0]["messages"]
    assert [m["matched"] for m in messages].count(True) == 5
    assert [m["matched"] for m in messages].count(False) >= 4  # the heartbeats in between
    assert run.report is not None
    sent = check["evidence"]["steps"][0]["sent"]
    assert run.report["run_id"] in sent  # the {run_id} placeholder was filled


def test_missing_event_names_the_step_and_what_was_expected(
    sandbox: Any, gate: Callable[..., GateRun], scenario_file: Path
) -> None:
    server = sandbox(drop_events=("tool_completed",))
    run = gate("check", server.url, "--config", str(scenario_file), env=ENV)
    check = run.check("ws.scenario")
    assert check["diagnosis"] == "scenario_step_timeout"
    assert check["summary"].startswith('step 1 of 1: no {"type": "tool_completed"} within 1 s')
    assert (
        '3 of 5 expected arrived; {"type": "agent_completed"} arrived without it'
        in check["summary"]
    )
    assert "agent_completed" in check["summary"]


def test_out_of_order_event_is_named(
    sandbox: Any, gate: Callable[..., GateRun], scenario_file: Path
) -> None:
    server = sandbox(scramble_events=True)
    run = gate("check", server.url, "--config", str(scenario_file), env=ENV)
    check = run.check("ws.scenario")
    assert check["diagnosis"] == "scenario_out_of_order"
    assert (
        '{"type": "tool_executing"} arrived before {"type": "agent_thinking"}' in check["summary"]
    )


def test_close_during_scenario_keeps_close_diagnosis(
    sandbox: Any, gate: Callable[..., GateRun], scenario_file: Path
) -> None:
    server = sandbox(fault="crash")
    run = gate("check", server.url, "--config", str(scenario_file), env=ENV)
    assert run.check("ws.scenario")["diagnosis"] == "server_error_close"


def test_twenty_connections_three_refused(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    server = sandbox(max_sessions=17)
    run = gate("check", server.url, "--connections", "20", "--retry-budget", "0", env=ENV)
    check = run.check("ws.concurrency")
    assert check["diagnosis"] == "concurrency_failed"
    assert check["summary"].startswith("17 of 20 concurrent connections completed; 3 failed: ")
    assert "3 x upgrade_rejected" in check["summary"]
    assert check["evidence"]["failed_upgrade_statuses"] == {"403": 3}


def test_concurrent_scenarios(
    sandbox: Any, gate: Callable[..., GateRun], scenario_file: Path
) -> None:
    server = sandbox()
    run = gate("check", server.url, "--config", str(scenario_file), "--connections", "10", env=ENV)
    assert run.exit_code == 0, run.stdout
    assert run.check("ws.concurrency")["summary"] == "10 of 10 concurrent connections completed"


def test_budget_exceeded_by_injected_delay(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    server = sandbox(delay_s=0.12)
    run = gate(
        "check", server.url, "--samples", "4",
        "--budget", "health=100ms", "--budget", "handshake=2s", env=ENV,
    )  # fmt: skip
    check = run.check("latency")
    assert check["diagnosis"] == "latency_budget_exceeded"
    assert check["summary"].startswith("health p95 ")
    assert "> budget 100 ms" in check["summary"]
    assert "handshake p95" not in check["summary"].split(" (")[0]
    assert check["evidence"]["metrics"]["health"]["samples"] == 4
    assert check["evidence"]["metrics"]["health"]["p95"] >= 120


def test_budget_met(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    run = gate("check", sandbox().url, "--budget", "first_message=2s", env=ENV)
    check = run.check("latency")
    assert check["status"] == "pass"
    assert check["attempts"] == 5  # --budget without --samples takes 5


def test_intermittent_failure_in_samples_fails(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    server = sandbox(fault="close-on-message")
    run = gate("check", server.url, "--samples", "2", env=ENV)
    check = run.check("latency")
    assert check["diagnosis"] == "closed_by_server"
    assert "2 of 2 repeated samples failed" in check["summary"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "needs at least one"),
        ({"steps": [{"sent": "x"}]}, "unknown key 'sent'"),
        ({"steps": [{"send": 3}]}, "send must be a string or a table"),
        ({"steps": [{"expect": [1]}]}, "expect must be a list"),
        ({"steps": [{"send": "x", "timeout": 0}]}, "positive number"),
        ({"steps": [{}]}, "give send, expect, or both"),
    ],
)
def test_bad_scenarios_are_configuration_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_scenario(raw, 10)


def test_budget_parsing_and_percentiles() -> None:
    assert parse_budget("health=100ms") == ("health", 100.0)
    assert parse_budget("handshake=0.05s") == ("handshake", 50.0)
    with pytest.raises(ConfigError):
        parse_budget("health=100")
    with pytest.raises(ConfigError):
        parse_budget("cpu=1s")
    assert percentile(list(range(1, 21)), 0.95) == 19
    assert percentile([5.0], 0.5) == 5.0
