"""An asyncio event loop in a daemon thread: where local servers run beside the gate's own loop.

The sandbox revisions, the router of the local Cloud Run, and the test-only
servers are asyncio servers that must keep serving while the gate's run (its
own event loop, in the main thread) talks to them. They share this one helper.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class BackgroundLoop:
    """An event loop running in a daemon thread until :meth:`stop`."""

    def __init__(self, name: str = "background-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> BackgroundLoop:
        """Start the thread; returns ``self``."""
        self._thread.start()
        return self

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``work`` in the loop and wait for its result (from another thread)."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def stop(self) -> None:
        """Cancel whatever still runs in the loop, stop it and close it."""

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self.call(cancel_all(), timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
        if not self._thread.is_alive():
            self.loop.close()

    def __enter__(self) -> BackgroundLoop:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
