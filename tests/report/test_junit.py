"""``gate.report.junit``: every canary step verdict and the run's error, as JUnit elements."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gate.report.junit import render_junit
from tests.report.build import result, step


@pytest.mark.parametrize(
    ("verdict", "diagnosis", "element", "message"),
    [
        ("fail", "canary_error_rate_exceeded", "failure", "canary_error_rate_exceeded: 5xx 0/10"),
        ("error", None, "error", "5xx 0/10"),
        ("inconclusive", None, "skipped", "inconclusive: 5xx 0/10"),
        ("pass", None, "system-out", None),
    ],
)
def test_a_step_is_a_testcase_with_its_verdict(
    verdict: str, diagnosis: str | None, element: str, message: str | None
) -> None:
    root = ET.fromstring(render_junit(result(steps=(step(verdict, diagnosis),))))  # noqa: S314 (our own XML)
    (case,) = [c for c in root.iter("testcase") if c.get("classname") == "gate.canary"]
    assert case.get("name") == "step 10%"
    (child,) = list(case)
    assert child.tag == element
    if message is not None:
        assert child.get("message") == message
    else:
        assert child.text == "5xx 0/10"


def test_the_run_s_error_is_system_err() -> None:
    root = ET.fromstring(render_junit(result(error="Cloud Logging could not be read")))  # noqa: S314
    assert [e.text for e in root.iter("system-err")] == ["Cloud Logging could not be read"]


def test_a_failed_step_s_failure_holds_its_hint() -> None:
    failed = {**step("fail", "canary_error_rate_exceeded"), "hint": "open request_count"}
    root = ET.fromstring(render_junit(result(steps=(failed,))))  # noqa: S314 (our own XML)
    failure = root.find(".//testcase[@classname='gate.canary']/failure")
    assert failure is not None
    assert failure.text == "hint: open request_count"
    assert failure.get("type") == "canary_error_rate_exceeded"
