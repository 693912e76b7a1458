"""``gate.checks.canary``: a step's metrics judged, candidate against stable, on hand-built counts."""

from __future__ import annotations

import pytest

from gate.checks.canary import (
    Limits,
    StepPlace,
    judge,
    metric_tests,
    side,
    step_hint,
    worse_beyond_noise,
)
from gate.cloud.model import Latency, Traffic
from gate.model import Diagnosis, SideMetrics, StepMetrics

BOUNDS = (10.0, 20.0, 40.0, 80.0)


def _latency(fast: int, slow: int) -> Latency:
    """``fast`` requests under 10 ms and ``slow`` ones between 40 and 80 ms."""
    return Latency(BOUNDS, (fast, 0, 0, slow, 0))


@pytest.mark.parametrize(
    ("candidate", "stable", "verdict", "diagnosis", "words"),
    [
        (Traffic(0, 0), Traffic(500, 0), "insufficient", None, "no data"),
        (Traffic(40, 0), Traffic(500, 0), "insufficient", None, "insufficient data: 40"),
        (Traffic(200, 20), Traffic(2000, 2), "fail", "canary_error_rate_exceeded", "beyond noise"),
        (Traffic(200, 20), Traffic(2000, 200), "pass", None, "within bounds"),
        (Traffic(200, 20), Traffic(10, 0), "fail", "canary_error_rate_exceeded", "no stable"),
        (
            Traffic(200, 0, _latency(0, 200)),
            Traffic(2000, 0, _latency(2000, 0)),
            "fail",
            "canary_latency_exceeded",
            "p95",
        ),
        (
            Traffic(200, 0, _latency(200, 0)),
            Traffic(2000, 0, _latency(2000, 0)),
            "pass",
            None,
            "within bounds",
        ),
    ],
    ids=["no-data", "too-few", "worse", "platform-wide", "no-baseline", "slow", "healthy"],
)
def test_verdicts(
    candidate: Traffic, stable: Traffic, verdict: str, diagnosis: str | None, words: str
) -> None:
    found, why, summary = judge(candidate, stable, Limits(min_requests=100))
    assert (found, why) == (verdict, diagnosis)
    assert words in summary


def test_too_few_requests_fail_when_metrics_are_required() -> None:
    found, why, summary = judge(Traffic(3, 0), Traffic(500, 0), Limits(require=True))
    assert (found, why) == ("fail", "metrics_insufficient")
    assert "fewer than --min-requests 100" in summary


def test_a_side_for_the_report() -> None:
    shown = side(["svc-2"], Traffic(200, 2, _latency(200, 0)))
    assert shown == {"revisions": ["svc-2"], "requests": 200, "errors": 2, "error_ratio": 0.01,
                     "http_requests": 200, "p95_ms": 9.5, "p50_ms": 5.0, "p99_ms": 9.9}  # fmt: skip


@pytest.mark.parametrize(
    ("counts", "worse"),
    [
        ((1, 10, 0, 0), False),
        ((0, 10, 0, 10), False),
        ((10, 10, 0, 10), True),
        ((3, 40, 0, 400), True),
    ],
    ids=["no-baseline-requests", "both-zero", "all-against-none", "sparse-against-zero"],
)
def test_worse_beyond_noise_edges(counts: tuple[int, int, int, int], worse: bool) -> None:
    assert worse_beyond_noise(*counts) is worse


Side = tuple[int, int, float | None]  # requests, 5xx, p95 ms


def _metrics(candidate: Side, stable: Side) -> StepMetrics:
    def one(requests: int, errors: int, p95: float | None) -> SideMetrics:
        ratio = errors / requests if requests else None
        return {"revisions": [], "requests": requests, "errors": errors, "error_ratio": ratio,
                "http_requests": requests, "p95_ms": p95}  # fmt: skip

    return {"window_start": "", "window_end": "", "asked_start": "", "asked_end": "",
            "reads": 1, "settled": True, "candidate": one(*candidate), "stable": one(*stable),
            "verdict": "fail", "summary": ""}  # fmt: skip


PLACE = StepPlace("chat-00002-new", "https://candidate---chat.a.run.app", "severity>=ERROR")


@pytest.mark.parametrize(
    ("diagnosis", "metrics", "words"),
    [
        ("canary_error_rate_exceeded", _metrics((40, 3, 5.0), (400, 0, 5.0)),
         ["3 of 40 requests with a 5xx (7.50%)", "0 of 400 (0.00%)", "7.50 points worse",
          'run.googleapis.com/request_count with metric.labels.response_code_class="5xx"']),
        ("canary_latency_exceeded", _metrics((400, 0, 300.0), (400, 0, 100.0)),
         ["p95 was 300 ms against 100 ms", "(3.0 x)", "run.googleapis.com/request_latencies"]),
        ("metrics_insufficient", _metrics((4, 0, None), (400, 0, 5.0)),
         ["only 4 candidate requests", "--min-requests"]),
        ("first_message_timeout", None,
         ["`gate check https://candidate---chat.a.run.app`"]),
    ],
)  # fmt: skip
def test_a_failed_step_says_what_was_worse_and_where_to_look(
    diagnosis: Diagnosis, metrics: StepMetrics | None, words: list[str]
) -> None:
    hint = step_hint(diagnosis, metrics, PLACE)
    assert hint is not None
    for word in words:
        assert word in hint
    assert hint.endswith("the candidate's logs in the step's window: severity>=ERROR")
    assert 'resource.labels.revision_name="chat-00002-new"' in hint or metrics is None


def test_a_step_without_a_diagnosis_has_no_hint() -> None:
    assert step_hint(None, None, PLACE) is None


def test_three_failures_in_forty_against_none_in_four_hundred_fail_by_the_exact_test() -> None:
    limits = Limits(min_requests=40)
    found, why, summary = judge(Traffic(40, 3), Traffic(400, 0), limits)
    assert (found, why) == ("fail", "canary_error_rate_exceeded")
    assert "Fisher's exact test, p = 0.0007" in summary
    tests = metric_tests(Traffic(40, 3), Traffic(400, 0))
    assert tests["errors"]["test"] == "fisher_exact"
    big = metric_tests(Traffic(2000, 200), Traffic(2000, 20))
    assert big["errors"]["test"] == "two_proportion_z"


MANY = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0)


def _spread(counts: tuple[int, ...]) -> Latency:
    return Latency(MANY, counts)


def test_a_candidate_slower_across_its_distribution_fails_under_the_p95_ratio() -> None:
    stable = Traffic(1000, 0, _spread((0, 100, 200, 300, 200, 100, 60, 30, 10, 0, 0)))
    slower = Traffic(1000, 0, _spread((0, 0, 60, 150, 250, 250, 150, 90, 40, 10, 0)))
    p95_ratio = (slower.latency.percentile(0.95) or 0) / (stable.latency.percentile(0.95) or 1)  # type: ignore[union-attr]
    assert 1.1 < p95_ratio < 1.5  # under --max-latency-ratio
    found, why, summary = judge(slower, stable, Limits(min_requests=100))
    assert (found, why) == ("fail", "canary_latency_exceeded")
    assert "slower across its whole latency distribution (Mann-Whitney U test" in summary
    tests = metric_tests(slower, stable)
    assert tests["latency"]["effect"] >= 0.56  # type: ignore[operator]


def test_an_identical_distribution_never_fails_however_many_requests() -> None:
    shape = (0, 100, 200, 300, 200, 100, 60, 30, 10, 0, 0)
    stable = Traffic(1000, 0, _spread(shape))
    ten_times = Traffic(10000, 0, _spread(tuple(10 * c for c in shape)))
    assert judge(ten_times, stable, Limits(min_requests=100))[0] == "pass"
    assert metric_tests(ten_times, stable)["latency"]["effect"] == 0.5
    assert "latency" not in metric_tests(Traffic(10, 0), Traffic(10, 0))


def _user(**fields: object) -> object:
    from gate.model import UserMetric

    base: dict[str, object] = {"name": "drops", "metric": "logging.googleapis.com/user/drops",
                               "threshold": 2.0, "relative": True, "critical": True}  # fmt: skip
    return UserMetric(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "totals", "requests", "verdict"),
    [
        ({}, (30.0, 20.0), (100, 400), "fail"),  # 0.3 per request against 2 x 0.05
        ({}, (5.0, 20.0), (100, 400), "pass"),
        ({}, (5.0, None), (100, 400), "fail"),  # a zero baseline never excuses the candidate
        ({}, (None, 20.0), (100, 400), "insufficient"),
        ({}, (5.0, 20.0), (10, 400), "insufficient"),
        ({"relative": False, "threshold": 0.1}, (5.0, 0.0), (100, 400), "pass"),
        ({"direction": "decrease", "threshold": 0.5}, (1.0, 40.0), (100, 400), "fail"),
        ({"direction": "decrease", "threshold": 0.5}, (9.0, 40.0), (100, 400), "pass"),
        ({"metric": None, "promql": "q", "relative": False, "threshold": 0.05}, (0.2, 0.01),
         (100, 400), "fail"),  # a query's value is its own rate: not divided by requests
    ],
    ids=["worse", "within", "zero-baseline", "no-data", "too-few", "absolute",
         "decrease-worse", "decrease-within", "promql"],
)  # fmt: skip
def test_a_user_metric_is_judged_per_request_in_its_direction(
    fields: dict[str, object],
    totals: tuple[float | None, float | None],
    requests: tuple[int, int],
    verdict: str,
) -> None:
    from gate.checks.canary import user_outcome

    outcome = user_outcome(_user(**fields), totals, requests, 50)  # type: ignore[arg-type]
    assert outcome["verdict"] == verdict, outcome


def test_the_step_verdict_is_a_function_of_its_metrics() -> None:
    from gate.checks.canary import user_outcome, with_user_metrics

    def judged(verdict_of: str, critical: bool) -> object:
        totals = {"fail": (30.0, 20.0), "pass": (5.0, 20.0), "insufficient": (None, 1.0)}
        return user_outcome(_user(critical=critical), totals[verdict_of], (100, 400), 50)  # type: ignore[arg-type]

    assert with_user_metrics("fail", "canary_error_rate_exceeded", "5xx", [], False)[1] == (
        "canary_error_rate_exceeded"
    )
    critical = with_user_metrics("pass", None, "ok", [judged("fail", True)], False)  # type: ignore[list-item]
    assert critical[:2] == ("fail", "canary_metric_failed")
    one_of_two = [judged("fail", False), judged("pass", False)]
    assert with_user_metrics("pass", None, "ok", one_of_two, False)[0] == "fail"  # type: ignore[arg-type]
    one_of_three = [judged("fail", False), judged("pass", False), judged("pass", False)]
    assert with_user_metrics("pass", None, "ok", one_of_three, False)[0] == "pass"  # type: ignore[arg-type]
    blind = [judged("insufficient", True)]
    assert with_user_metrics("pass", None, "ok", blind, False)[0] == "insufficient"  # type: ignore[arg-type]
    assert with_user_metrics("pass", None, "ok", blind, True)[1] == "metrics_insufficient"  # type: ignore[arg-type]
    assert with_user_metrics("pass", None, "ok", [judged("insufficient", False)], False)[0] == (  # type: ignore[list-item]
        "pass"
    )


def test_a_failed_user_metric_s_hint_names_it_and_its_metric() -> None:
    from gate.checks.canary import user_outcome

    block = _metrics((100, 0, 5.0), (400, 0, 5.0))
    block["user"] = [user_outcome(_user(), (30.0, None), (100, 400), 50)]  # type: ignore[arg-type]
    hint = step_hint("canary_metric_failed", block, PLACE)
    assert hint is not None
    assert "drops (logging.googleapis.com/user/drops): 0.3 per request above 0" in hint
    assert "the comparison side no data" in hint
