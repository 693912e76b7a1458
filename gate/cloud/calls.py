"""How every Google API call is made: in the loop's executor, bounded in time, errors mapped.

The Google clients are blocking (gRPC), so each call runs through
:func:`gate.threads.blocking`; the run never waits past the limit it was
given, even for a call that hangs, and an abandoned call does not hold the
process open (the pool's threads are daemons). Each call carries an explicit
gRPC timeout and no retry policy of the client library's own (``retry=None``):

* a **read** (:meth:`Budget.read`: Run GETs, Logging, Monitoring, Secret
  Manager) is retried here on ``RESOURCE_EXHAUSTED``, ``UNAVAILABLE``,
  ``INTERNAL`` and ``DEADLINE_EXCEEDED``, with jittered exponential backoff,
  waiting the delay the server asks for in a ``google.rpc.RetryInfo`` detail when
  it gives one, and only while the run's deadline leaves room for the wait and
  another attempt. Logging reads share one per-project quota with every reader
  in the project, the Logs Explorer included, so one ``429`` is an ordinary
  answer, not a verdict; Google's own clients retry ListLogEntries on the last
  three codes and AccessSecretVersion on the first (each library's
  ``transports/base.py``);
* a **write** (:meth:`Budget.call`, the traffic update) is never retried: after a
  lost answer the retry would meet its own change as an etag conflict.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import TypeVar

from gate.cloud.errors import MISSING, api_call
from gate.errors import GateFailure
from gate.threads import blocking
from gate.timing import Deadline, Stopwatch

T = TypeVar("T")

CALL_TIMEOUT_S = 20.0
"""The longest one API request may take (the gRPC deadline of one attempt)."""
BACKOFF_FIRST_S = 0.5
"""The first wait before a read is tried again (without a server's RetryInfo)."""
BACKOFF_MAX_S = 16.0
"""The longest wait between two attempts of a read (without a server's RetryInfo)."""
_GUARD_S = 0.5
_RETRYABLE = ("ResourceExhausted", "ServiceUnavailable", "InternalServerError", "DeadlineExceeded")


def server_delay(exc: BaseException) -> float | None:
    """The wait a ``google.rpc.RetryInfo`` detail of the error asks for, if it has one."""
    for detail in getattr(exc, "details", None) or ():
        delay = getattr(detail, "retry_delay", None)
        if delay is not None and type(detail).__name__ == "RetryInfo":
            return max(0.0, float(delay.seconds) + float(delay.nanos) / 1e9)
    return None


def retry_delay(
    exc: BaseException, attempt: int, rng: Callable[[], float] = random.random
) -> float | None:
    """How long to wait before attempt ``attempt + 1`` of a read, or ``None``: do not retry.

    The server's RetryInfo wins; otherwise "equal jitter": half of the
    exponential step plus a random share of the other half, so that the
    readers of one project throttled at once do not come back at once.
    """
    if type(exc).__name__ not in _RETRYABLE or not _is_google(exc):
        return None
    asked = server_delay(exc)
    if asked is not None:
        return asked
    step: float = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2.0 ** (attempt - 1))
    return step / 2 + rng() * step / 2


def _is_google(exc: BaseException) -> bool:
    from google.api_core import exceptions

    return isinstance(exc, exceptions.GoogleAPICallError)


class Budget:
    """The time the gate's Cloud calls may take: what is left of a deadline."""

    def __init__(self, deadline: Deadline, call_timeout_s: float = CALL_TIMEOUT_S) -> None:
        self.deadline = deadline
        self.call_timeout_s = call_timeout_s

    def timeout(self) -> float:
        """The gRPC timeout of the next request: its own limit or what is left."""
        return max(0.001, self.deadline.clip(self.call_timeout_s))

    async def call(
        self, func: Callable[[], T], action: str, role: str, missing: str = MISSING
    ) -> T:
        """Run ``func`` (one blocking API call, never retried) within what is left; map its errors.

        ``action`` says what the call does, ``role`` what it needs and ``missing``
        what to check when the resource does not exist, for the one-line message
        of a failure.
        """
        return await self._attempts(func, action, role, missing, retried=False)

    async def read(
        self, func: Callable[[], T], action: str, role: str, missing: str = MISSING
    ) -> T:
        """Like :meth:`call`, for a read: transient errors are retried within the deadline."""
        return await self._attempts(func, action, role, missing, retried=True)

    async def _attempts(
        self, func: Callable[[], T], action: str, role: str, missing: str, retried: bool
    ) -> T:
        limit = self.deadline.remaining()
        if limit <= 0:
            raise GateFailure(f"{action}: no time left before the deadline: raise --deadline")
        watch = Stopwatch()
        attempts = 0

        def tried() -> str:
            if attempts < 2:
                return ""
            return f" after {attempts} attempts over {watch.ms() / 1000:.1f} s"

        with api_call(action, role, missing, tried):
            while True:
                attempts += 1
                limit = self.deadline.remaining()
                try:
                    async with asyncio.timeout(limit + _GUARD_S):
                        return await blocking(func)
                except TimeoutError:
                    raise GateFailure(
                        f"{action}: no answer within {limit:.1f} s (the run's deadline): check "
                        "the network and the API's status, or raise --deadline"
                    ) from None
                except Exception as exc:
                    wait = retry_delay(exc, attempts) if retried else None
                    if wait is None or wait + _GUARD_S >= self.deadline.remaining():
                        raise
                await asyncio.sleep(wait)
