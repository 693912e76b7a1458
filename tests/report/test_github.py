"""``gate.report.github``: the job summary and the annotations, for one target and for many."""

from __future__ import annotations

from typing import Any

import pytest

from gate.model import CheckResult, MultiResult
from gate.report.github import annotations_any, summary_any, summary_markdown
from tests.report.build import FAILED, STARTED, WARNING, result, step


def _action(verified: bool | None) -> Any:
    return {
        "kind": "rollback", "from": "chat-00002-new", "to": "chat-00001-old", "status": "done",
        "verified": verified, "reason": "", "traffic": [], "checks": [], "changes": [],
    }  # fmt: skip


WARNED = CheckResult("ws.subprotocol", "warn", "selected jwt.*", 1.0, warnings=(WARNING,))


def _many() -> MultiResult:
    return MultiResult("m1", STARTED, 20.0, (("eu", result(FAILED)), ("us", result())))


def test_the_canary_steps_are_a_table() -> None:
    text = summary_markdown(result(steps=(step("fail", "canary_error_rate_exceeded"),)))
    assert "**Canary steps**" in text
    assert "| 10% | 3.0 s | 0 | canary_error_rate_exceeded | 5xx 0/10 |" in text


@pytest.mark.parametrize(
    ("verified", "words"), [(True, "verified healthy"), (False, "NOT healthy"), (None, "done")]
)
def test_the_traffic_action_says_whether_it_was_verified(verified: bool | None, words: str) -> None:
    text = summary_markdown(result(action=_action(verified)))
    assert "**Traffic**: rollback chat-00002-new → chat-00001-old: done" in text
    assert text.rstrip().endswith(words)


def test_the_error_is_its_own_line() -> None:
    assert "**Error**: Cloud Logging could not be read" in summary_markdown(
        result(error="Cloud Logging could not be read")
    )


def test_many_targets_get_one_heading_each_under_the_overall_verdict() -> None:
    text = summary_any(_many())
    assert text.startswith("# smoke-gate: FAIL across 2 targets")
    assert "## eu: FAIL" in text
    assert "## us: PASS" in text


def test_annotations_of_many_targets_are_titled_with_their_name() -> None:
    (line,) = annotations_any(_many())
    assert line.startswith("::error title=eu ws.first_message%3A first_message_timeout::")


def test_warnings_and_the_error_are_annotated_too() -> None:
    lines = annotations_any(result(WARNED, error="line one\nline two"))
    assert lines == [
        "::warning title=credential_echoed::the token was echoed in Sec-WebSocket-Protocol",
        "::error title=smoke-gate::line one%0Aline two",
    ]


def test_a_failed_step_is_annotated_and_has_its_row_in_where_to_look() -> None:
    failed = {**step("fail", "canary_error_rate_exceeded"), "hint": "open request_count"}
    one = result(steps=(step("pass"), failed))
    annotations = annotations_any(one)
    assert len([line for line in annotations if line.startswith("::error title=step")]) == 1
    assert any(
        line.startswith("::error title=step 10%25%3A canary_error_rate_exceeded::")
        and line.endswith("%0Aopen request_count")
        for line in annotations
    ), annotations
    assert "- `step 10%`: open request_count" in summary_markdown(one)


def test_a_canary_gets_a_mermaid_chart_per_metric_and_stays_small() -> None:
    from tests.report.test_html import _step

    steps = tuple(_step(f"{p}%", p, 0.01 * n) for n, p in enumerate(range(10, 101, 10)))
    text = summary_markdown(result(steps=steps))
    assert text.count("```mermaid\nxychart-beta") == 2
    for step_block in steps:  # ten metrics: the two built-in ones and eight of the user's
        assert step_block["metrics"] is not None
        step_block["metrics"]["user"] = [{  # type: ignore[typeddict-item]
            "name": f"metric_{n}", "metric": "m", "direction": "increase", "critical": False,
            "relative": False, "threshold": 0.1, "candidate_rate": 0.2, "stable_rate": 0.05,
            "candidate_total": 2.0, "stable_total": 2.0, "verdict": "pass", "summary": "x" * 200,
        } for n in range(8)]  # fmt: skip
    many = summary_markdown(result(steps=steps))
    assert many.count("```mermaid\nxychart-beta") == 10
    assert len(many.encode()) < 100_000  # GitHub's limit is 1 MiB
    assert "<details><summary>Canary metrics per step" in text
    assert 'x-axis ["10%", "20%"' in text
    assert len(text.encode()) < 1 << 20
    assert "```mermaid" not in summary_markdown(result())


def test_each_user_metric_gets_its_chart_too() -> None:
    from tests.report.test_html import _step

    steps = (_step("20%", 20, 0.0), _step("50%", 50, 0.0))
    for step_block in steps:
        assert step_block["metrics"] is not None
        step_block["metrics"]["user"] = [{  # type: ignore[typeddict-item]
            "name": "drops", "metric": "m", "direction": "increase", "critical": True,
            "relative": False, "threshold": 0.1, "candidate_rate": 0.2, "stable_rate": 0.05,
            "candidate_total": 2.0, "stable_total": 2.0, "verdict": "fail", "summary": "",
        }]  # fmt: skip
    text = summary_markdown(result(steps=steps))
    assert text.count("```mermaid\nxychart-beta") == 3
    assert 'title "drops per request"' in text
    from gate.report.html import render_html

    assert render_html(result(steps=steps)).count('<figure class="metric">') == 6
