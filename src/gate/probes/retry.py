"""Retrying what a cold start produces, and nothing else.

A Cloud Run revision that is scaling from zero refuses connections or answers
429/502/503/504 for a few seconds. Those outcomes are retried with exponential
backoff (honouring ``Retry-After``) until ``--retry-budget`` seconds have passed
since the first attempt, and never past the run's deadline. Every other outcome
is deterministic and returned at once: retrying a 403 or a 1011 would only
delay the verdict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from gate.timing import Deadline, Stopwatch

COLD_START_STATUSES = frozenset({429, 502, 503, 504})
_FIRST_DELAY_S = 0.25
_MAX_DELAY_S = 4.0

A = TypeVar("A")


@dataclass(frozen=True)
class RetryPolicy:
    """How long cold-start outcomes may be retried."""

    budget_s: float

    def delays(self) -> list[float]:
        """The backoff schedule before any ``Retry-After`` adjustment."""
        delays, delay, total = [], _FIRST_DELAY_S, 0.0
        while total + delay <= self.budget_s:
            delays.append(delay)
            total += delay
            delay = min(delay * 2, _MAX_DELAY_S)
        return delays


async def with_retries(
    attempt: Callable[[], Awaitable[A]],
    retry_after: Callable[[A], float | None],
    policy: RetryPolicy,
    deadline: Deadline,
) -> list[A]:
    """Run ``attempt`` until it gives a non-retryable outcome or the budget is spent.

    ``retry_after(outcome)`` returns ``None`` when the outcome is final, or the
    server's requested delay in seconds (``0.0`` when it named none).
    Returns every attempt's outcome, the last one being the verdict.
    """
    outcomes: list[A] = []
    clock = Stopwatch()
    schedule = iter(policy.delays())
    while True:
        outcome = await attempt()
        outcomes.append(outcome)
        requested = retry_after(outcome)
        if requested is None:
            return outcomes
        delay = next(schedule, None)
        if delay is None:
            return outcomes
        delay = max(delay, min(requested, _MAX_DELAY_S))
        spent_s = clock.ms() / 1000.0
        if spent_s + delay > policy.budget_s or deadline.remaining() <= delay + 0.1:
            return outcomes
        await asyncio.sleep(delay)
