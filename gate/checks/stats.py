"""The statistics of a canary step, in plain Python: exact where counts are small, and rank-based
for latency distributions that come as Cloud Monitoring's buckets.

* :func:`error_test`: is the candidate's error ratio higher than the comparison side's? With
  small counts (an expected count of errors or successes below 5 in either group, where the
  normal approximation fails) the one-sided Fisher exact test, from the hypergeometric
  distribution; otherwise the one-sided two-proportion z-test. 3 failures in 40 requests
  against 0 in 400 is p = 0.0007 (Fisher): a real regression.
* :func:`latency_test`: is the candidate slower across its whole distribution? The one-sided
  Mann-Whitney U test on the requests (each request a sample, so minutes of data suffice), with
  every bucket a group of ties and the variance corrected for them; its effect size is the
  probability that a candidate request is slower than a comparison request (ties half), 0.5
  for identical distributions however many requests there are.

Both return p-values as floats in [0, 1]; the judges decide against a significance level.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SMALL_EXPECTED = 5.0
"""Below this expected count in any cell, the normal approximation is not used."""


@dataclass(frozen=True)
class TestResult:
    """One test's outcome: its name, its statistic and its one-sided p-value."""

    test: str
    statistic: float
    p_value: float


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_greater(errors: int, requests: int, base_errors: int, base_requests: int) -> float:
    """One-sided Fisher exact p-value that the first ratio exceeds the second: the chance of
    at least ``errors`` of all the errors falling in the first group by luck alone."""
    total, failed = requests + base_requests, errors + base_errors
    low, high = max(0, failed - base_requests), min(failed, requests)
    denominator = _log_choose(total, failed)
    p = 0.0
    for k in range(max(errors, low), high + 1):
        p += math.exp(
            _log_choose(requests, k) + _log_choose(base_requests, failed - k) - denominator
        )
    return min(1.0, p)


def _normal_upper(z: float) -> float:
    """P(Z > z) for the standard normal distribution."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def error_test(errors: int, requests: int, base_errors: int, base_requests: int) -> TestResult:
    """Whether the candidate's error ratio is higher (see the module): Fisher or z."""
    if requests == 0 or base_requests == 0:
        return TestResult("none", 0.0, 1.0)
    pooled = (errors + base_errors) / (requests + base_requests)
    expected = [n * share for n in (requests, base_requests) for share in (pooled, 1 - pooled)]
    ratio, base = errors / requests, base_errors / base_requests
    if min(expected) < SMALL_EXPECTED:
        return TestResult("fisher_exact", ratio - base, fisher_greater(
            errors, requests, base_errors, base_requests
        ))  # fmt: skip
    spread = math.sqrt(pooled * (1 - pooled) * (1 / requests + 1 / base_requests))
    z = (ratio - base) / spread if spread else 0.0
    return TestResult("two_proportion_z", z, _normal_upper(z))


def latency_test(counts: Sequence[int], base_counts: Sequence[int]) -> tuple[TestResult, float]:
    """The one-sided Mann-Whitney U test that the first distribution is slower, on bucket
    counts over the same buckets (ties within a bucket), and its effect size: the probability
    that a request of the first is slower than one of the second (ties count half)."""
    n1, n2 = sum(counts), sum(base_counts)
    if n1 == 0 or n2 == 0:
        return TestResult("mann_whitney_u", 0.0, 1.0), 0.5
    # U: pairs where the candidate is slower, plus half the ties.
    below = 0  # comparison requests in lower buckets than the current one
    u = 0.0
    ties = 0.0
    for mine, theirs in zip(counts, base_counts, strict=True):
        u += mine * below + 0.5 * mine * theirs
        below += theirs
        group = mine + theirs
        ties += group**3 - group
    n = n1 + n2
    mean = n1 * n2 / 2
    variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    effect = u / (n1 * n2)
    if variance <= 0:
        return TestResult("mann_whitney_u", 0.0, 1.0), effect
    z = (u - mean - 0.5) / math.sqrt(variance)  # continuity correction, one-sided
    return TestResult("mann_whitney_u", z, _normal_upper(z)), effect
