"""``gate.report.ci``: where the report goes in each CI, and the GitHub files, on real files."""

from __future__ import annotations

from pathlib import Path

from gate.report.ci import append_to, default_report_path, publish_github
from tests.report.build import FAILED, result


def test_the_default_report_path_of_each_ci(tmp_path: Path) -> None:
    runner = {"GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(tmp_path)}
    assert default_report_path(runner) == tmp_path / "gate-report.json"
    assert default_report_path({}, workspace=tmp_path) == tmp_path / "gate-report.json"
    assert default_report_path({}, workspace=tmp_path / "absent") is None


def test_an_unset_variable_is_nothing_to_write() -> None:
    assert append_to({}, "GITHUB_OUTPUT", "verdict=pass\n") is None


def test_an_unwritable_file_is_a_problem_named_with_its_variable(tmp_path: Path) -> None:
    problem = append_to({"GITHUB_OUTPUT": str(tmp_path)}, "GITHUB_OUTPUT", "verdict=pass\n")
    assert problem == f"cannot write $GITHUB_OUTPUT ({tmp_path}: Is a directory)"


def test_without_a_report_the_outputs_hold_the_verdict_only(tmp_path: Path) -> None:
    outputs, summary = tmp_path / "outputs", tmp_path / "summary"
    env = {"GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}
    lines, problems = publish_github(result(FAILED), None, env, str.upper)
    assert problems == []
    assert outputs.read_text() == "VERDICT=FAIL\n"  # through the redactor given
    assert "SMOKE-GATE: FAIL" in summary.read_text()
    assert lines[0].startswith("::error title=ws.first_message")


def test_with_a_report_its_path_is_an_output_in_delimiter_form(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    report = tmp_path / "gate-report.json"
    publish_github(result(), report, {"GITHUB_OUTPUT": str(outputs)}, lambda s: s)
    verdict, start, path, end = outputs.read_text().splitlines()
    assert verdict == "verdict=pass"
    assert start.startswith("report<<gate_")
    assert path == str(report.resolve())
    assert end == start.removeprefix("report<<")
