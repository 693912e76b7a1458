"""How every Google API call is made: in the loop's executor, bounded in time, errors mapped.

The Google clients are blocking (gRPC), so each call runs through
:func:`gate.threads.blocking`; the run never waits past the limit it was
given, even for a call that hangs, and an abandoned call does not hold the
process open (the pool's threads are daemons). Each call also
carries an explicit gRPC timeout and an explicit retry policy, both clipped to
that limit, instead of the client libraries' defaults (20-60 s of retries).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from gate.cloud.errors import MISSING, api_call
from gate.errors import GateFailure
from gate.threads import blocking
from gate.timing import Deadline

T = TypeVar("T")

CALL_TIMEOUT_S = 20.0
"""The longest one API request may take (the gRPC deadline of one attempt)."""
RETRY_TOTAL_S = 4.0
"""How long transient API errors (UNAVAILABLE) are retried, at most."""
_RETRY_FIRST_S = 0.25
_RETRY_MAX_S = 1.0
_GUARD_S = 0.5


def retry_policy(within_s: float) -> Any:
    """Retry UNAVAILABLE with backoff for at most ``RETRY_TOTAL_S`` and ``within_s`` seconds."""
    from google.api_core import exceptions, retry

    return retry.Retry(
        predicate=retry.if_exception_type(exceptions.ServiceUnavailable),
        initial=_RETRY_FIRST_S,
        maximum=_RETRY_MAX_S,
        multiplier=2.0,
        timeout=max(0.0, min(RETRY_TOTAL_S, within_s)),
    )


class Budget:
    """The time the gate's Cloud calls may take: what is left of a deadline."""

    def __init__(self, deadline: Deadline, call_timeout_s: float = CALL_TIMEOUT_S) -> None:
        self.deadline = deadline
        self.call_timeout_s = call_timeout_s

    def timeout(self) -> float:
        """The gRPC timeout of the next request: its own limit or what is left."""
        return max(0.001, self.deadline.clip(self.call_timeout_s))

    def retry(self) -> Any:
        """The retry policy of the next request."""
        return retry_policy(self.deadline.remaining())

    async def call(
        self, func: Callable[[], T], action: str, role: str, missing: str = MISSING
    ) -> T:
        """Run ``func`` (one blocking API call) within what is left; map its errors.

        ``action`` says what the call does, ``role`` what it needs and ``missing``
        what to check when the resource does not exist, for the one-line message
        of a failure.
        """
        limit = self.deadline.remaining()
        if limit <= 0:
            raise GateFailure(f"{action}: no time left before the deadline: raise --deadline")
        with api_call(action, role, missing):
            try:
                async with asyncio.timeout(limit + _GUARD_S):
                    return await blocking(func)
            except TimeoutError:
                raise GateFailure(
                    f"{action}: no answer within {limit:.1f} s (the run's deadline): check the "
                    "network and the API's status, or raise --deadline"
                ) from None
