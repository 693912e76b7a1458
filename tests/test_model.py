"""``gate.model``: the invariants of a result and how a verdict and an exit code follow."""

from __future__ import annotations

import pytest

from gate.errors import ExitCode
from gate.model import CheckResult
from tests.report.build import FAILED, result


def test_a_failed_check_carries_exactly_one_diagnosis() -> None:
    with pytest.raises(ValueError, match="exactly one diagnosis"):
        CheckResult("http.health", "fail", "503", 1.0)
    with pytest.raises(ValueError, match="exactly one diagnosis"):
        CheckResult("http.health", "pass", "200", 1.0, diagnosis="http_status")


@pytest.mark.parametrize(
    ("signal", "code"), [("SIGINT", ExitCode.INTERRUPTED), ("SIGTERM", ExitCode.TERMINATED)]
)
def test_a_signal_makes_the_verdict_error_and_the_exit_code_its_own(
    signal: str, code: ExitCode
) -> None:
    stopped = result(FAILED, interrupted=signal)
    assert stopped.verdict == "error"
    assert stopped.exit_code == code


@pytest.mark.parametrize(
    ("overrides", "failed", "verdict"),
    [(False, True, "fail"), (True, True, "error"), (False, False, "error")],
)
def test_an_error_decides_the_verdict_unless_a_failure_is_certain(
    overrides: bool, failed: bool, verdict: str
) -> None:
    checks = (FAILED,) if failed else ()
    run = result(
        *checks, error="Cloud Logging could not be read", error_overrides_failure=overrides
    )
    assert run.verdict == verdict
