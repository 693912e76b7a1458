"""Retrying what a cold start produces, and nothing else.

The probe loops; the decision of what is worth retrying is the caller's
(:mod:`gate.checks.retry` judges it): ``decide(outcome)`` returns ``None`` when
the outcome is final, or the delay the server asked for (``0.0`` when it named
none). Outcomes are retried with exponential backoff, honouring that delay,
until ``budget_s`` seconds have passed since the first attempt, and never past
the run's deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from gate.timing import Deadline, Stopwatch

_FIRST_DELAY_S = 0.25
_MAX_DELAY_S = 4.0

A = TypeVar("A")


@dataclass(frozen=True)
class RetryPolicy(Generic[A]):
    """How long retryable outcomes may be retried, and which outcomes are retryable."""

    budget_s: float
    decide: Callable[[A], float | None]

    def delays(self) -> list[float]:
        """The backoff schedule before any ``Retry-After`` adjustment."""
        delays, delay, total = [], _FIRST_DELAY_S, 0.0
        while total + delay <= self.budget_s:
            delays.append(delay)
            total += delay
            delay = min(delay * 2, _MAX_DELAY_S)
        return delays

    def once(self) -> RetryPolicy[A]:
        """The same decisions with no budget: one attempt."""
        return replace(self, budget_s=0.0)


async def with_retries(
    attempt: Callable[[], Awaitable[A]], policy: RetryPolicy[A], deadline: Deadline
) -> list[A]:
    """Run ``attempt`` until it gives a final outcome or the budget is spent.

    Returns every attempt's outcome, the last one being the verdict.
    """
    outcomes: list[A] = []
    clock = Stopwatch()
    schedule = iter(policy.delays())
    while True:
        outcome = await attempt()
        outcomes.append(outcome)
        requested = policy.decide(outcome)
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
