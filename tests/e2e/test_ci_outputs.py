"""CI-native output: GitHub summary, annotations and outputs; JUnit; Cloud Build; plain text."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import xmlschema

from gate.report.ci import default_report_path
from tests.conftest import SECRET, GateRun

SCHEMA = xmlschema.XMLSchema(str(Path(__file__).parents[1] / "data" / "junit.xsd"))


def test_github_actions_summary_annotations_and_outputs(
    sandbox: Any, gate_process: Callable[..., GateRun], tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    outputs = tmp_path / "outputs.txt"
    server = sandbox(fault="close-on-message")
    run = gate_process(
        "check",
        server.url,
        env={
            "GATE_JWT_SECRET": SECRET,
            "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(outputs),
            "RUNNER_TEMP": str(tmp_path),
        },
    )
    assert run.exit_code == 1
    text = summary.read_text()
    assert text.startswith("## smoke-gate: FAIL")
    for check_id in ("http.health", "ws.upgrade", "ws.first_message", "ws.auth_enforced"):
        assert f"`{check_id}`" in text
    assert "closed_by_server" in text
    assert "**Where to look**" in text
    errors = [line for line in run.stdout.splitlines() if line.startswith("::error ")]
    assert errors == [
        line for line in errors if "title=ws.first_message%3A closed_by_server::" in line
    ]
    assert len(errors) == 1
    assert "\n" not in errors[0]
    warnings = [line for line in run.stdout.splitlines() if line.startswith("::warning ")]
    assert warnings
    assert "credential_echoed" in warnings[0]
    lines = outputs.read_text().splitlines()
    assert "verdict=fail" in lines
    marker_at = next(i for i, line in enumerate(lines) if line.startswith("report<<"))
    report = Path(lines[marker_at + 1])
    assert lines[marker_at + 2] == lines[marker_at][len("report<<") :]
    assert json.loads(report.read_text())["verdict"] == "fail"
    assert SECRET not in text + outputs.read_text() + run.stdout


def test_github_pass_writes_pass(
    sandbox: Any, gate_process: Callable[..., GateRun], tmp_path: Path
) -> None:
    outputs = tmp_path / "outputs.txt"
    run = gate_process(
        "check",
        sandbox().url,
        "--subprotocol",
        "chat.v1",
        env={
            "GATE_JWT_SECRET": SECRET,
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(outputs),
            "RUNNER_TEMP": str(tmp_path),
        },
    )
    assert run.exit_code == 0
    assert "verdict=pass" in outputs.read_text().splitlines()
    assert "::error" not in run.stdout


def test_junit_validates_against_the_schema(
    sandbox: Any, gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    server = sandbox(fault="crash")
    run = gate("check", server.url, "--junit", str(junit), env={"GATE_JWT_SECRET": SECRET})
    assert run.exit_code == 1
    SCHEMA.validate(str(junit))
    document = SCHEMA.to_dict(str(junit))
    suite = document["testsuite"][0]
    cases = {case["@name"]: case for case in suite["testcase"]}
    assert set(cases) == {"http.health", "ws.upgrade", "ws.subprotocol", "ws.first_message",
                          "ws.auth_enforced"}  # fmt: skip
    failure = cases["ws.first_message"]["failure"]
    assert failure["@message"].startswith("server_error_close: ")
    assert suite["@failures"] == 1


def test_junit_of_a_skipped_check(
    sandbox: Any, gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    run = gate("check", sandbox(secret=None).url, "--junit", str(junit))
    assert run.exit_code == 0
    SCHEMA.validate(str(junit))
    assert "<skipped" in junit.read_text()


def test_cloud_build_workspace_gets_the_report(tmp_path: Path) -> None:
    assert default_report_path({}, workspace=tmp_path) == tmp_path / "gate-report.json"
    assert default_report_path({}, workspace=tmp_path / "absent") is None
    github = {"GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(tmp_path)}
    assert (
        default_report_path(github, workspace=tmp_path / "absent") == tmp_path / "gate-report.json"
    )


def test_plain_text_without_control_characters_when_not_a_tty(
    sandbox: Any, gate_process: Callable[..., GateRun]
) -> None:
    run = gate_process("check", sandbox(fault="crash").url, env={"GATE_JWT_SECRET": SECRET})
    assert run.exit_code == 1
    assert not any(ord(ch) < 32 and ch not in "\n" for ch in run.stdout + run.stderr)
