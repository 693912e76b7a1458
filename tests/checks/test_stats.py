"""``gate.checks.stats``: the exact and rank tests, against values worked out by hand."""

from __future__ import annotations

import math

from gate.checks.stats import error_test, fisher_greater, latency_test


def test_fisher_is_the_hypergeometric_tail() -> None:
    # All 3 errors of 440 requests in the 40 of the candidate: C(40,3) / C(440,3).
    assert math.isclose(fisher_greater(3, 40, 0, 400), (40 * 39 * 38) / (440 * 439 * 438))
    assert fisher_greater(0, 40, 3, 400) == 1.0  # no errors: nothing more extreme than chance


def test_the_error_test_is_exact_with_small_counts_and_normal_with_large_ones() -> None:
    small = error_test(3, 40, 0, 400)
    assert (small.test, round(small.p_value, 4)) == ("fisher_exact", 0.0007)
    large = error_test(100, 2000, 50, 2000)
    assert large.test == "two_proportion_z"
    assert large.p_value < 0.001
    assert error_test(0, 0, 0, 10).p_value == 1.0
    assert error_test(0, 1000, 0, 1000).test == "fisher_exact"  # no errors: expected counts 0


def test_the_rank_test_sees_a_shift_and_not_a_copy() -> None:
    base = (5, 10, 5)
    same, effect = latency_test(base, base)
    assert effect == 0.5
    assert same.p_value > 0.4
    slower, effect = latency_test((0, 5, 15), base)
    assert slower.p_value < 0.01
    assert effect > 0.6
    faster, _effect = latency_test((15, 5, 0), base)
    assert faster.p_value > 0.99  # one-sided: faster never fails


def test_the_rank_test_with_nothing_to_rank() -> None:
    assert latency_test((0, 0), (3, 1))[1] == 0.5
    single, effect = latency_test((1, 0), (0, 0))
    assert (single.p_value, effect) == (1.0, 0.5)
    one_each, _effect = latency_test((1,), (1,))  # every request tied: no spread at all
    assert one_each.p_value == 1.0
