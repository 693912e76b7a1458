"""``gate.checks.latency``: nearest-rank percentiles and budgets, on hand-built samples."""

from __future__ import annotations

import pytest

from gate.checks.latency import judge_latency, percentile, stats

TWENTY = [float(v) for v in range(1, 21)]


@pytest.mark.parametrize(("fraction", "value"), [(0.5, 10.0), (0.95, 19.0), (1.0, 20.0)])
def test_nearest_rank(fraction: float, value: float) -> None:
    assert percentile(TWENTY, fraction) == value


def test_stats() -> None:
    assert stats(TWENTY) == {"p50": 10.0, "p95": 19.0, "max": 20.0, "samples": 20}


def test_within_budget_passes() -> None:
    result = judge_latency({"health": TWENTY}, [], 20, {"health": 19.0}, 5.0)
    assert result.status == "pass"
    assert result.summary == "health p50 10 / p95 19 / max 20 ms (20 samples)"


def test_over_budget_fails_naming_the_metric() -> None:
    result = judge_latency({"health": TWENTY, "handshake": [1.0]}, [], 20, {"health": 18.0}, 5.0)
    assert (result.status, result.diagnosis) == ("fail", "latency_budget_exceeded")
    assert result.summary.startswith("health p95 19 ms > budget 18 ms (20 samples)")
    assert result.hint is not None


def test_a_failed_sample_fails_with_its_own_diagnosis() -> None:
    result = judge_latency({"health": TWENTY}, [("first_message", "read_timeout")], 20, {}, 5.0)
    assert (result.status, result.diagnosis) == ("fail", "read_timeout")
    assert "1 of 20 repeated samples failed (first: first_message, read_timeout)" in result.summary
    assert result.hint == (
        "the service fails intermittently: the single checks passed, repeated ones did not"
    )
