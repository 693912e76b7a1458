"""``gate sandbox serve``: run the reference service in the foreground until a signal."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from gate.errors import GateError
from gate.sandbox.service import Sandbox, SandboxConfig


async def serve_until_signal(
    config: SandboxConfig, host: str, port: int, on_ready: Callable[[str], None]
) -> None:
    """Serve on ``host:port``; ``on_ready(url)`` once listening; stop on SIGINT or SIGTERM."""
    server = Sandbox(config, host, port)
    try:
        await server.start()
    except OSError as exc:
        raise GateError(
            f"cannot listen on {host}:{port} ({exc.strerror}): pick another --port"
        ) from None
    on_ready(server.url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await server.stop()


def serve(config: SandboxConfig, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """The sandbox's own server loop: :func:`serve_until_signal` until SIGINT or SIGTERM."""
    asyncio.run(serve_until_signal(config, host, port, on_ready))
