"""Judging a canary window from Cloud Monitoring's request metrics: candidate against stable.

Pure functions of counts and latency distributions (:mod:`gate.cloud.monitoring`
reads them). The candidate fails a window when:

* ``canary_error_rate_exceeded``: its 5xx ratio is above ``--max-error-rate``
  *and* worse than the stable revisions' ratio in the same window by more than
  sampling noise explains, at 99% confidence, one-sided (errors fail only on an
  increase): Fisher's exact test when counts are small (any expected count below 5:
  3 failures in 40 against 0 in 400 is p = 0.0007), the two-proportion z-test
  where its normal approximation holds (:mod:`gate.checks.stats`). A
  platform-wide problem, or two revisions equally bad, does not blame the
  candidate; a stable side with no errors at all does not excuse the
  candidate's. Without a stable baseline (fewer than ``--min-requests`` stable
  requests, e.g. after the promotion), the threshold alone decides;
* ``canary_latency_exceeded``: its p95 is above ``--max-latency-ratio`` times
  the stable revisions' p95, or its whole distribution is slower: the Mann-Whitney
  U test on every request of both (the buckets as ties) at 99% confidence, *and*
  a candidate request slower than a stable one in at least 56% of pairs (so that
  identical distributions never fail, however many requests they hold). Both
  over HTTP requests only (a WebSocket counts as ``1xx`` when it closes, with its
  whole lifetime as latency, and is left out), each side with at least
  ``--min-requests`` of them. p50, p95 and p99 of both sides are reported, and
  each test's statistic, p-value and effect size (``metrics.tests``).

Fewer than ``--min-requests`` candidate requests (none at all: "no data") is
``insufficient``: the window is reported with its counts, the step is
``inconclusive`` and judged by probes and logs alone, unless
``--require-metrics`` makes it a failure (``metrics_insufficient``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gate.checks.stats import TestResult, error_test, latency_test
from gate.cloud.model import Traffic
from gate.model import (
    Diagnosis,
    MetricsVerdict,
    SideMetrics,
    StepMetrics,
    UserMetric,
    UserMetricBlock,
)


@dataclass(frozen=True)
class Limits:
    """The bounds of ``--max-error-rate``, ``--max-latency-ratio``, ``--min-requests``."""

    max_error_rate: float = 0.01
    max_latency_ratio: float = 1.5
    min_requests: int = 100
    require: bool = False


ALPHA = 0.01
"""The significance level of every canary test: 99% confidence, one-sided."""
LATENCY_EFFECT = 0.56
"""How clearly slower a candidate must be across its distribution to fail on it alone: a
candidate request slower than a stable one in at least 56% of pairs (0.5: no difference; 0.56
is a "small" effect in Vargha and Delaney's scale of this statistic, A). Cloud Run's buckets
are coarse (each about 1.4 times the last), so ties pull a real shift toward 0.5: a floor much
higher would let a candidate 30% slower throughout pass."""
_TEST_NAMES = {
    "fisher_exact": "Fisher's exact test",
    "two_proportion_z": "two-proportion z-test",
    "mann_whitney_u": "Mann-Whitney U test",
    "none": "no test",
}


def worse_beyond_noise(errors: int, requests: int, base_errors: int, base_requests: int) -> bool:
    """True when ``errors/requests`` exceeds ``base_errors/base_requests`` at 99% confidence
    (:func:`gate.checks.stats.error_test`: exact with small counts)."""
    return error_test(errors, requests, base_errors, base_requests).p_value < ALPHA


def metric_tests(candidate: Traffic, stable: Traffic) -> dict[str, dict[str, object]]:
    """Each built-in metric's test, for the report: its name, statistic, p-value, effect size
    and threshold."""
    errors = error_test(candidate.errors, candidate.requests, stable.errors, stable.requests)
    tests: dict[str, dict[str, object]] = {
        "errors": {
            "test": errors.test, "statistic": round(errors.statistic, 4),
            "p_value": errors.p_value, "alpha": ALPHA,
        },
    }  # fmt: skip
    shifted = _shift(candidate, stable)
    if shifted is not None:
        result, effect = shifted
        tests["latency"] = {
            "test": result.test, "statistic": round(result.statistic, 4),
            "p_value": result.p_value, "alpha": ALPHA, "effect": round(effect, 4),
            "effect_threshold": LATENCY_EFFECT,
        }  # fmt: skip
    return tests


def _shift(candidate: Traffic, stable: Traffic) -> tuple[TestResult, float] | None:
    """The rank test of the two latency distributions (same buckets), if both have one."""
    mine, theirs = candidate.latency, stable.latency
    if mine is None or theirs is None or mine.bounds != theirs.bounds:
        return None
    return latency_test(mine.counts, theirs.counts)


def _named(result: TestResult) -> str:
    return f"{_TEST_NAMES[result.test]}, p = {result.p_value:.2g}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.2f}%"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


def side(revisions: Sequence[str], traffic: Traffic) -> SideMetrics:
    """One side of the report's ``metrics`` block: counts, and p50, p95 and p99."""

    def at(fraction: float) -> float | None:
        value = traffic.latency.percentile(fraction) if traffic.latency is not None else None
        return None if value is None else round(value, 1)

    return {
        "revisions": list(revisions),
        "requests": traffic.requests,
        "errors": traffic.errors,
        "error_ratio": traffic.error_ratio,
        "http_requests": traffic.http_requests,
        "p95_ms": at(0.95),
        "p50_ms": at(0.5),
        "p99_ms": at(0.99),
    }


def judge(
    candidate: Traffic, stable: Traffic, limits: Limits
) -> tuple[MetricsVerdict, Diagnosis | None, str]:
    """The window's verdict, its diagnosis when it failed, and a one-line summary."""
    counts = (
        f"candidate {candidate.requests} requests, 5xx {_percent(candidate.error_ratio)}, "
        f"p95 {_ms(_p95(candidate))}; stable {stable.requests} requests, 5xx "
        f"{_percent(stable.error_ratio)}, p95 {_ms(_p95(stable))}"
    )
    if candidate.requests < limits.min_requests:
        verdict: MetricsVerdict = "fail" if limits.require else "insufficient"
        diagnosis: Diagnosis | None = "metrics_insufficient" if limits.require else None
        reason = (
            "no data: Cloud Monitoring shows no request of the candidate in the window"
            if candidate.requests == 0
            else f"insufficient data: {candidate.requests} candidate requests, fewer than "
            f"--min-requests {limits.min_requests}"
        )
        return verdict, diagnosis, f"{reason} ({counts})"
    ratio = candidate.error_ratio or 0.0
    baseline = stable.requests >= limits.min_requests
    tested = error_test(candidate.errors, candidate.requests, stable.errors, stable.requests)
    if ratio > limits.max_error_rate and (not baseline or tested.p_value < ALPHA):
        against = (
            f"and worse than the stable revisions beyond noise (99%; {_named(tested)})"
            if baseline
            else "(no stable baseline in the window)"
        )
        return (
            "fail",
            "canary_error_rate_exceeded",
            (
                f"5xx ratio {_percent(ratio)} above --max-error-rate "
                f"{_percent(limits.max_error_rate)} {against}: {counts}"
            ),
        )
    mine, theirs = _p95(candidate), _p95(stable)
    enough = min(candidate.http_requests, stable.http_requests) >= limits.min_requests
    if enough and mine is not None and theirs and mine > limits.max_latency_ratio * theirs:
        return (
            "fail",
            "canary_latency_exceeded",
            (
                f"p95 {_ms(mine)} above {limits.max_latency_ratio:g} x the stable p95 "
                f"{_ms(theirs)}: {counts}"
            ),
        )
    shifted = _shift(candidate, stable) if enough else None
    if shifted is not None and shifted[0].p_value < ALPHA and shifted[1] >= LATENCY_EFFECT:
        result, effect = shifted
        return (
            "fail",
            "canary_latency_exceeded",
            (
                f"slower across its whole latency distribution ({_named(result)}): a candidate "
                f"request is slower than a stable one in {effect:.0%} of pairs (at most "
                f"{LATENCY_EFFECT:.0%}), although p95 {_ms(mine)} is within "
                f"{limits.max_latency_ratio:g} x the stable {_ms(theirs)}: {counts}"
            ),
        )
    judged = [f"errors: {_named(tested)}"]
    if shifted is not None:
        judged.append(f"latency: {_named(shifted[0])}, slower in {shifted[1]:.0%} of pairs")
    return "pass", None, f"within bounds ({'; '.join(judged)}): {counts}"


def _p95(traffic: Traffic) -> float | None:
    return traffic.latency.percentile(0.95) if traffic.latency is not None else None


@dataclass(frozen=True)
class StepPlace:
    """Where a step's evidence lives: the candidate and the Logging filter of its window."""

    candidate: str
    url: str
    log_filter: str


REQUEST_COUNT = "run.googleapis.com/request_count"
REQUEST_LATENCIES = "run.googleapis.com/request_latencies"


def step_hint(
    diagnosis: Diagnosis | None, metrics: StepMetrics | None, place: StepPlace
) -> str | None:
    """What a failed step's reader does next: what was worse and by how much, the metric to
    open in Metrics Explorer, and the Logging query of the candidate's window."""
    if diagnosis is None:
        return None
    logs = f"the candidate's logs in the step's window: {place.log_filter}"
    revision = f'resource.labels.revision_name="{place.candidate}"'
    if diagnosis == "canary_error_rate_exceeded" and metrics is not None:
        mine, theirs = metrics["candidate"], metrics["stable"]
        points = ((mine["error_ratio"] or 0.0) - (theirs["error_ratio"] or 0.0)) * 100
        return (
            f"the candidate answered {mine['errors']} of {mine['requests']} requests with a 5xx "
            f"({_percent(mine['error_ratio'])}), the stable revisions {theirs['errors']} of "
            f"{theirs['requests']} ({_percent(theirs['error_ratio'])}): {points:.2f} points "
            f"worse; the metric is {REQUEST_COUNT} with metric.labels.response_code_class="
            f'"5xx" and {revision}; {logs}'
        )
    if diagnosis == "canary_latency_exceeded" and metrics is not None:
        mine_ms, theirs_ms = metrics["candidate"]["p95_ms"], metrics["stable"]["p95_ms"]
        ratio = f" ({mine_ms / theirs_ms:.1f} x)" if mine_ms and theirs_ms else ""
        return (
            f"the candidate's p95 was {_ms(mine_ms)} against {_ms(theirs_ms)} on the stable "
            f"revisions{ratio}; the metric is {REQUEST_LATENCIES} with {revision}; the slow "
            f"requests are in the request log (httpRequest.latency); {logs}"
        )
    if diagnosis == "canary_metric_failed" and metrics is not None:
        failed = [u for u in metrics.get("user", []) if u["verdict"] == "fail"]
        told = "; ".join(
            f"{u['name']} ({u['metric']}): {u['summary']}, the comparison side "
            f"{u['stable_rate'] if u['stable_rate'] is not None else 'no data'}"
            for u in failed
        )
        return f"{told}; open each metric for {revision} in Metrics Explorer; {logs}"
    if diagnosis == "metrics_insufficient" and metrics is not None:
        return (
            f"Cloud Monitoring showed only {metrics['candidate']['requests']} candidate requests "
            f"in the window ({REQUEST_COUNT} with {revision}): send more traffic, lengthen "
            f"--step-bake, or lower --min-requests; {logs}"
        )
    return (
        f"a probe round or the candidate's logs failed the step at {place.url}: `gate check "
        f"{place.url}` shows the whole check; {logs}"
    )


def user_outcome(
    metric: UserMetric,
    totals: tuple[float | None, float | None],
    requests: tuple[int, int],
    min_requests: int,
) -> UserMetricBlock:
    """One ``[[canary_metrics]]`` metric of a step: its rate per request on each side (the
    counter's total over that side's requests), and pass, fail or inconclusive against its
    threshold (absolute, or times the comparison side's rate when ``relative``), in its
    direction. No point at all for the candidate is no data: inconclusive, never a pass."""
    (mine, theirs), (asked, compared) = totals, requests
    if metric.promql is not None:  # the query's value is its own rate
        asked_for, compared_with = 1, 1
    else:
        asked_for, compared_with = asked, compared
    rate = None if mine is None or asked_for == 0 else mine / asked_for
    base = 0.0 if theirs is None or compared_with == 0 else theirs / compared_with
    bound = metric.threshold * base if metric.relative else metric.threshold
    outcome: MetricsVerdict
    if rate is None or asked < min_requests:
        outcome, why = "insufficient", "no data" if mine is None else f"{asked} requests"
    elif metric.direction == "increase" and rate > bound:
        outcome, why = "fail", f"{rate:.4g} per request above {bound:.4g}"
    elif metric.direction == "decrease" and rate < bound:
        outcome, why = "fail", f"{rate:.4g} per request below {bound:.4g}"
    else:
        outcome, why = "pass", f"{rate:.4g} per request within {bound:.4g}"
    return {
        "name": metric.name, "metric": metric.metric or f"promql: {metric.promql}",
        "direction": metric.direction,
        "critical": metric.critical, "relative": metric.relative, "threshold": metric.threshold,
        "candidate_rate": rate, "stable_rate": base if theirs is not None else None,
        "candidate_total": mine, "stable_total": theirs, "verdict": outcome, "summary": why,
    }  # fmt: skip


def with_user_metrics(
    verdict: MetricsVerdict,
    diagnosis: Diagnosis | None,
    summary: str,
    outcomes: Sequence[UserMetricBlock],
    require: bool,
) -> tuple[MetricsVerdict, Diagnosis | None, str]:
    """The step's metrics verdict once its own metrics are judged too.

    The built-in metrics and every ``critical`` user metric decide alone: one failure fails
    the step (``canary_metric_failed`` for a user metric). The other user metrics fail it
    together, when at least half of those judged fail. A critical metric without data makes
    the step inconclusive, or, with ``--require-metrics``, fails it (``metrics_insufficient``).
    """
    if verdict == "fail":
        return verdict, diagnosis, summary
    critical = [o for o in outcomes if o["critical"]]
    others = [o for o in outcomes if not o["critical"] and o["verdict"] != "insufficient"]
    failed = [o for o in critical if o["verdict"] == "fail"]
    weak = [o for o in others if o["verdict"] == "fail"]
    if not failed and others and 2 * len(weak) >= len(others):
        failed = weak
    if failed:
        named = "; ".join(f"{o['name']} {o['summary']}" for o in failed)
        return "fail", "canary_metric_failed", f"{named}; {summary}"
    blind = [o["name"] for o in critical if o["verdict"] == "insufficient"]
    if blind:
        said = f"critical metric {', '.join(blind)} has no data in the window; {summary}"
        if require:
            return "fail", "metrics_insufficient", said
        return "insufficient", None, said
    return verdict, diagnosis, summary
