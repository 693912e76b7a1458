"""Synthetic users for the local Cloud Run: API calls through the service URL.

Real traffic is what canary metrics judge, and probes alone do not make it:
:class:`UserTraffic` sends authenticated ``GET``\\ s of an API path to the
service URL at a steady rate, each on a new connection, so that the router
picks a revision by the traffic split for every request (as Cloud Run's front
end does per request). It runs in the caller's event loop (the demo's, or a
test server's) until stopped; ``statuses`` counts what came back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from urllib.parse import urlsplit

import jwt

API_PATH = "/api/discovery/services"
_TIMEOUT_S = 5.0


def user_token(secret: str, audience: str | None = None) -> str:
    """An HS256 token the sandbox accepts, for a synthetic user."""
    claims: dict[str, object] = {"sub": "synthetic-user", "exp": int(time.time()) + 3600}
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


class UserTraffic:
    """Steady synthetic API traffic to ``url`` (the service URL of the local Cloud Run)."""

    def __init__(
        self, url: str, secret: str, rate_per_s: float = 100.0, audience: str | None = None
    ) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.interval_s = 1.0 / rate_per_s
        self.request = (
            f"GET {API_PATH} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: Bearer {user_token(secret, audience)}\r\nConnection: close\r\n\r\n"
        ).encode()
        self.statuses: Counter[int] = Counter()
        self._runner: asyncio.Task[None] | None = None
        self._calls: set[asyncio.Task[None]] = set()

    async def _one(self) -> None:
        try:
            async with asyncio.timeout(_TIMEOUT_S):
                reader, writer = await asyncio.open_connection(self.host, self.port)
                writer.write(self.request)
                await writer.drain()
                line = await reader.readline()
                writer.close()
            status = int(line.split()[1]) if line.startswith(b"HTTP/") else 0
        except (OSError, TimeoutError, ValueError, IndexError):
            status = 0
        self.statuses[status] += 1

    async def _run(self) -> None:
        while True:
            call = asyncio.create_task(self._one())
            self._calls.add(call)
            call.add_done_callback(self._calls.discard)
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        """Start sending (in the running event loop)."""
        self._runner = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop sending, and let the calls in flight end."""
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._calls:
            await asyncio.wait(self._calls, timeout=_TIMEOUT_S)
