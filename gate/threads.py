"""Blocking calls under the event loop: a pool of daemon threads, and :func:`blocking`.

Blocking libraries (requests, the Google clients, the system resolver) run
through :func:`blocking`, each call bounded by the run's deadline by its
caller. The pool is :class:`DaemonExecutor`, not ``ThreadPoolExecutor`` (the
default executor of asyncio, which its ``getaddrinfo`` uses, and which it
requires for a default executor): the standard pool joins its threads
when the interpreter exits, so one call that never returns (a resolver that
never answers, a stalled socket below a library's own timeout) would keep the
process alive long after the report was written. Here the run stops waiting
for such a call at its deadline, and the process exits as soon as the command
is done; the abandoned thread is a daemon and ends with it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

MAX_WORKERS = 128
"""Blocking calls running at once: enough for 50 targets' health paths and resolvers."""

_WorkItem = tuple[Future[Any], Callable[[], Any]]


class DaemonExecutor(Executor):
    """A bounded pool of daemon threads, started on demand and reused.

    ``shutdown`` stops the idle threads and never joins a busy one: a busy
    thread at shutdown runs a call the run already gave up on at its deadline.
    """

    def __init__(self, max_workers: int = MAX_WORKERS) -> None:
        self._max_workers = max_workers
        self._work: queue.SimpleQueue[_WorkItem | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._workers = 0
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)`` on a free thread, starting one if none is idle."""
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the executor is shut down")
            self._work.put((future, lambda: fn(*args, **kwargs)))
            if not self._idle.acquire(blocking=False) and self._workers < self._max_workers:
                self._workers += 1
                threading.Thread(target=self._serve, name="gate-blocking", daemon=True).start()
        return future

    def _serve(self) -> None:
        while (item := self._work.get()) is not None:
            future, call = item
            if future.set_running_or_notify_cancel():
                try:
                    result = call()
                except BaseException as exc:  # handed to whoever awaits the future
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let idle threads end; never wait for a busy one (see the class docstring)."""
        with self._lock:
            self._closed = True
            for _ in range(self._workers):
                self._work.put(None)


_pool: DaemonExecutor | None = None
_pool_lock = threading.Lock()


def _shared() -> DaemonExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = DaemonExecutor()
        return _pool


async def blocking(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``func`` in the shared daemon pool and await its result (context variables kept)."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = functools.partial(context.run, func, *args, **kwargs)
    return await loop.run_in_executor(_shared(), call)
