"""``gate.report.text``: the human report's log groups and the canary plan line."""

from __future__ import annotations

from gate.config.settings import VerifyOptions
from gate.report.text import canary_plan, render_text
from tests.report.build import group, logs, result


def test_only_the_first_groups_are_shown_and_the_rest_counted() -> None:
    many = logs(*(group(fingerprint=str(n), sample=f"error {n}") for n in range(12)))
    text = render_text(result(logs=many))
    assert "error 0" in text
    assert "error 11" not in text
    assert "... 7 more groups in the JSON report" in text


def test_the_plan_counts_minutes_and_leaves_out_metrics_when_off() -> None:
    options = VerifyOptions("p", "r", "s", canary=(10, 50), step_bake=300.0, metrics=False)
    plan = canary_plan(options)
    assert "5 min" in plan
    assert "metrics" not in plan
    with_metrics = canary_plan(VerifyOptions("p", "r", "s", canary=(10,), step_bake=75.0))
    assert "1 min 15 s" in with_metrics


def test_each_target_header_names_the_config_file() -> None:
    from gate.model import MultiResult, RunContext
    from gate.report.text import render_any
    from tests.report.build import STARTED

    multi = MultiResult(
        run_id="m1", started_at=STARTED, duration_ms=20.0,
        results=(("eu", result()), ("us", result())), context=RunContext(config="gate.toml"),
    )  # fmt: skip
    headers = [line for line in render_any(multi).splitlines() if line.startswith("smoke-gate")]
    assert len(headers) == 2
    assert all(line.endswith(" · config gate.toml") for line in headers)


def test_no_line_is_wider_than_asked_and_continuations_hang_under_the_summary() -> None:
    from gate.model import CheckResult

    long = CheckResult(
        "ws.auth_enforced", "fail", "refused 3 of 5 " + "(no credential: HTTP 403; " * 12, 5.0,
        diagnosis="auth_not_enforced", hint="the socket accepted a forged token: " * 6,
    )  # fmt: skip
    for width in (50, 80, 100, 160):
        lines = render_text(result(long), width=width).splitlines()
        assert max(len(line) for line in lines) <= width, width
    lines = render_text(result(long), width=80).splitlines()
    summary = next(i for i, line in enumerate(lines) if line.startswith("FAIL"))
    assert lines[summary + 1].startswith(" " * 35)  # under the summary's first word
    assert lines[summary + 1][35] != " "
    hint = next(line for line in lines if "hint: " in line)
    assert hint.startswith(" " * 35 + "hint: ")


def test_a_failed_step_counts_in_the_verdict_line_and_carries_its_hint() -> None:
    from tests.report.build import step

    failed = {**step("fail", "canary_error_rate_exceeded"), "hint": "look at request_count"}
    text = render_text(result(steps=(failed,)))
    assert "hint: look at request_count" in text
    verdict = text.rstrip().splitlines()[-1]
    assert verdict.startswith("verdict: FAIL (exit 1) · 1 pass, 1 step failed")
