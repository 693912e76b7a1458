"""The open connections of a raw TCP listener, and a silent way to drop them all.

``asyncio.start_server`` runs each connection's handler as a task. Cancelled at
shutdown, such a task ends in ``CancelledError``, and on Python 3.11 the stream
protocol's done-callback calls ``task.exception()`` on it, which raises and is
printed as "Exception in callback ... CancelledError" with a traceback, once per
open connection. Stopping the sandbox or the local Cloud Run must be silent
(a user reads those lines as the gate crashing), so every handler runs through
:meth:`Connections.serve`, which ends the task normally when the shutdown
cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Connections:
    """The handler tasks and writers of one or more listeners, dropped together."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.accepted = 0  # connections ever handed to a handler

    def serve(self, handler: Handler) -> Handler:
        """``handler`` as a ``start_server`` callback whose connection :meth:`drop` can end."""

        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None  # a handler always runs as its own task
            self.accepted += 1
            self._tasks.add(task)
            self._writers.add(writer)
            try:
                await handler(reader, writer)
            except asyncio.CancelledError:
                pass  # a handler is cancelled only at shutdown (ours, or the loop's end)
            except (OSError, asyncio.IncompleteReadError):
                pass  # the peer went away: nothing to report from a test server
            finally:
                self._tasks.discard(task)
                self._writers.discard(writer)
                writer.close()

        return tracked

    async def drop(self) -> None:
        """Abort every open connection and wait for its handler to end."""
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
