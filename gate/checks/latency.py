"""``latency``: p50/p95/max of repeated health requests, handshakes and first exchanges.

``--samples N`` repeats each measurement N times; ``--budget NAME=DURATION``
(``health``, ``handshake``, ``first_message``; e.g. ``100ms`` or ``0.2s``)
fails the check with ``latency_budget_exceeded`` when that metric's p95 is
over budget. A sample that fails outright fails the check with its own
diagnosis: an intermittent failure is a failure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from gate.model import CheckId, CheckResult, Diagnosis, failure
from gate.text import plural

CHECK_ID: CheckId = "latency"


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def stats(values: Sequence[float]) -> dict[str, float]:
    """p50, p95 and max, rounded to 0.1 ms."""
    return {
        "p50": round(percentile(values, 0.50), 1),
        "p95": round(percentile(values, 0.95), 1),
        "max": round(max(values), 1),
        "samples": len(values),
    }


def judge_latency(
    measured: Mapping[str, Sequence[float]],
    failures: Sequence[tuple[str, Diagnosis]],
    samples: int,
    budgets: Mapping[str, float],
    duration_ms: float,
) -> CheckResult:
    """Judge the samples: failed samples first, then budgets on p95."""
    table = {name: stats(values) for name, values in measured.items() if values}
    evidence: dict[str, object] = {
        "samples": samples,
        "metrics": table,
        "budgets_ms": dict(budgets),
        "failed_samples": [{"metric": m, "diagnosis": d} for m, d in failures],
    }
    shown = "; ".join(
        f"{name} p50 {s['p50']:g} / p95 {s['p95']:g} / max {s['max']:g} ms"
        for name, s in table.items()
    )
    if failures:
        metric, diagnosis = failures[0]
        return failure(
            CHECK_ID,
            diagnosis,
            f"{len(failures)} of {samples} repeated samples failed (first: {metric}, "
            f"{diagnosis}); {shown}",
            "the service fails intermittently: the single checks passed, repeated ones did not",
            duration_ms,
            evidence,
            attempts=samples,
        )
    over = [
        (name, table[name]["p95"], budget)
        for name, budget in budgets.items()
        if name in table and table[name]["p95"] > budget
    ]
    if over:
        detail = "; ".join(f"{n} p95 {p95:g} ms > budget {b:g} ms" for n, p95, b in over)
        return failure(
            CHECK_ID,
            "latency_budget_exceeded",
            f"{detail} ({plural(samples, 'sample')}); {shown}",
            "the release is slower than its budget: compare with the previous revision and "
            "look at cold starts, dependency latency and instance concurrency",
            duration_ms,
            evidence,
            attempts=samples,
        )
    return CheckResult(
        CHECK_ID, "pass", f"{shown} ({plural(samples, 'sample')})", duration_ms,
        attempts=samples, evidence=evidence,
    )  # fmt: skip
