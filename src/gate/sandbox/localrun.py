"""A local Cloud Run: the emulator, sandbox revisions, and a router in front of them.

:class:`LocalCloudRun` is what ``gate demo`` and the tests deploy to. Each
revision is a sandbox (healthy or with a fault) whose ERROR logs, with the
request's trace id, land in the emulated Cloud Logging after a short ingestion
delay, as on the real platform. The service URL is a TCP router that sends
each new connection to a revision chosen by the current traffic split (HTTP
and WebSocket alike, since it forwards bytes); each tag gets its own router
listener pinned to the tagged revision, like Cloud Run's tag URLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from gate.sandbox.emulator import CloudEmulator
from gate.sandbox.loop import BackgroundLoop
from gate.sandbox.service import SandboxConfig, SandboxThread

_PIPE_CHUNK = 64 * 1024


class Router:
    """TCP listeners on 127.0.0.1 forwarding each connection to a chosen backend port."""

    def __init__(self, loop: BackgroundLoop) -> None:
        self._loop = loop
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def listen(self, pick: Callable[[], int | None]) -> str:
        """Open a listener whose connections go to ``pick()``; returns its URL."""

        async def open_listener() -> asyncio.Server:
            return await asyncio.start_server(
                lambda r, w: self._forward(r, w, pick), "127.0.0.1", 0
            )

        server = self._loop.call(open_listener(), timeout=5)
        self._servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    async def _forward(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        pick: Callable[[], int | None],
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            port = pick()
            if port is None:
                writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(_PIPE_CHUNK):
                sink.write(data)
                await sink.drain()
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                if sink.can_write_eof():
                    sink.write_eof()

    def stop(self) -> None:
        """Close every listener and connection."""

        async def close() -> None:
            for server in self._servers:
                server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self._loop.call(close(), timeout=5)


class LocalCloudRun:
    """One emulated project and region with one service, and its deployed revisions."""

    def __init__(
        self,
        service: str = "chat-backend",
        project: str = "demo-project",
        region: str = "europe-west1",
        jwt_secret: str | None = None,
        log_delay_s: float = 0.5,
        emulator: CloudEmulator | None = None,
    ) -> None:
        self.service = service
        self.jwt_secret = jwt_secret
        self.log_delay_s = log_delay_s
        # A second service may share another LocalCloudRun's emulator (same project).
        self._owns_emulator = emulator is None
        self.emulator = emulator or CloudEmulator(project=project, region=region)
        self.loop = BackgroundLoop("local-cloud-run")
        self.router = Router(self.loop)
        self.ports: dict[str, int] = {}
        self.sandboxes: dict[str, SandboxThread] = {}
        self._tag_urls: dict[str, str] = {}

    def __enter__(self) -> LocalCloudRun:
        if self._owns_emulator:
            self.emulator.start()
        self.loop.start()
        self.url = self.router.listen(self._pick_by_traffic)
        other = self.emulator.tag_url

        def tag_url(service: str, tag: str) -> str:
            if service == self.service or other is None:
                return self._tag_url(service, tag)
            return other(service, tag)

        self.emulator.tag_url = tag_url
        self.emulator.add_service(self.service, self.url)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.router.stop()
        for sandbox in self.sandboxes.values():
            sandbox.__exit__(None, None, None)
        self.loop.stop()
        if self._owns_emulator:
            self.emulator.stop()

    @property
    def env(self) -> dict[str, str]:
        """The variables that point the gate's real clients at the emulator."""
        return {
            "GATE_RUN_ENDPOINT": self.emulator.endpoint,
            "GATE_LOGGING_ENDPOINT": self.emulator.endpoint,
        }

    def deploy(
        self,
        revision: str,
        fault: str = "none",
        *,
        traffic: bool = True,
        tag: str | None = None,
        created: datetime | None = None,
        ready: bool = True,
    ) -> None:
        """Start a sandbox revision and record it as deployed, like ``gcloud run deploy``."""
        config = SandboxConfig(
            fault=fault,
            jwt_secret=self.jwt_secret,
            revision=revision,
            service=self.service,
            log_sink=lambda record: self._log(revision, record),
        )
        sandbox = SandboxThread(config, loop=self.loop).__enter__()
        self.sandboxes[revision] = sandbox
        self.ports[revision] = sandbox.sandbox.port
        self.emulator.add_revision(
            self.service, revision, ready=ready, created=created, traffic=traffic, tag=tag
        )

    def _log(self, revision: str, record: dict[str, Any]) -> None:
        severity = str(record.get("severity", "DEFAULT"))
        self.emulator.write_log(
            self.service,
            revision,
            str(record.get("message", "")),
            severity=severity,
            trace=record.get("trace"),
            delay_s=self.log_delay_s,
        )

    def _pick_by_traffic(self) -> int | None:
        shares = [(r, p) for r, p, _tag in self.emulator.traffic_of(self.service) if p > 0]
        if not shares:
            return None
        revisions, weights = zip(*shares, strict=True)
        chosen = random.choices(revisions, weights=weights)[0]
        return self.ports.get(chosen)

    def _tag_url(self, _service: str, tag: str) -> str:
        if tag not in self._tag_urls:
            self._tag_urls[tag] = self.router.listen(lambda: self._pick_by_tag(tag))
        return self._tag_urls[tag]

    def _pick_by_tag(self, tag: str) -> int | None:
        for revision, _percent, tagged in self.emulator.traffic_of(self.service):
            if tagged == tag:
                return self.ports.get(revision)
        return None
