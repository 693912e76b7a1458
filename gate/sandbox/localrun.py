"""A local Cloud Run: the emulator, sandbox revisions, and a router in front of them.

:class:`LocalCloudRun` is what ``gate demo`` and the tests deploy to. It runs
in the caller's event loop (the demo's is the gate's own: one loop for the
whole process). Each revision is a sandbox (healthy or with a fault) whose
ERROR logs, with the request's trace id, land in the emulated Cloud Logging
after a short ingestion delay, as on the real platform. The service URL is a
TCP router that sends each new connection to a revision chosen by the current
traffic split (HTTP and WebSocket alike, since it forwards bytes); each tag
gets its own router listener pinned to the tagged revision, like Cloud Run's
tag URLs. The emulator itself is a gRPC server with threads of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from gate.cloud.model import SYSTEM_LOG
from gate.sandbox.connections import Connections
from gate.sandbox.emulator import CloudEmulator
from gate.sandbox.frontend import STARTUP_PROBE_FAILED
from gate.sandbox.service import Sandbox, SandboxConfig

_PIPE_CHUNK = 64 * 1024


class Router:
    """TCP listeners on 127.0.0.1 forwarding each connection to a chosen backend port."""

    def __init__(self) -> None:
        self._servers: list[asyncio.Server] = []
        self._connections = Connections()

    async def listen(self, pick: Callable[[], int | None]) -> str:
        """Open a listener whose connections go to ``pick()``; returns its URL."""

        async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._forward(reader, writer, pick)

        server = await asyncio.start_server(self._connections.serve(forward), "127.0.0.1", 0)
        self._servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    async def _forward(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        pick: Callable[[], int | None],
    ) -> None:
        port = pick()
        if port is None:
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            up_writer.close()

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

    async def stop(self) -> None:
        """Close every listener and connection."""
        for server in self._servers:
            server.close()
        await self._connections.drop()


class LocalCloudRun:
    """One emulated project and region with one service, and its deployed revisions.

    Use it as ``async with LocalCloudRun(...) as cloud: await cloud.deploy(...)``.
    Several services may share one emulator (``emulator``), as one project does.
    """

    def __init__(
        self,
        service: str = "chat-backend",
        project: str = "demo-project",
        region: str = "europe-west1",
        jwt_secret: str | None = None,
        log_delay_s: float = 0.5,
        emulator: CloudEmulator | None = None,
        audience: str | None = None,
        metric_clock: tuple[float, float] | None = None,
    ) -> None:
        """``metric_clock``: the emulated Monitoring's sampling period and visibility delay,
        for runs that cannot wait for Google's 60 s and 180 s (tests, the demo, benchmarks)."""
        self.service = service
        self.jwt_secret = jwt_secret
        self.audience = audience
        self.log_delay_s = log_delay_s
        self._owns_emulator = emulator is None
        self.emulator = emulator or CloudEmulator(project=project, region=region)
        if metric_clock is not None:
            self.emulator.metric_period_s, self.emulator.metric_delay_s = metric_clock
        self.router = Router()
        self.ports: dict[str, int] = {}
        self.instances: dict[str, str] = {}  # revision -> its one instance's id
        self.sandboxes: dict[str, Sandbox] = {}
        self.url = ""

    async def __aenter__(self) -> LocalCloudRun:
        if self._owns_emulator:
            self.emulator.start()
        self.url = await self.router.listen(self._pick_by_traffic)
        self.emulator.add_service(self.service, self.url)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.router.stop()
        for sandbox in self.sandboxes.values():
            await sandbox.stop()
        if self._owns_emulator:
            self.emulator.stop()

    @property
    def env(self) -> dict[str, str]:
        """The variables that point the gate's real clients at the emulator."""
        return {
            "GATE_RUN_ENDPOINT": self.emulator.endpoint,
            "GATE_LOGGING_ENDPOINT": self.emulator.endpoint,
            "GATE_SECRETMANAGER_ENDPOINT": self.emulator.endpoint,
            "GATE_MONITORING_ENDPOINT": self.emulator.endpoint,
        }

    async def deploy(
        self,
        revision: str,
        fault: str = "none",
        *,
        traffic: bool = True,
        tag: str | None = None,
        created: datetime | None = None,
        ready: bool = True,
        port: str = "http1",
        pending_for_s: float = 0.0,
        reconcile_s: float | None = None,
        **config: Any,
    ) -> None:
        """Start a sandbox revision and record it as deployed, like ``gcloud run deploy``.

        A revision that is not ``ready`` never listens: no sandbox starts, and
        Cloud Run's system log says the startup probe failed, as it does about
        240 s after such a deploy. ``reconcile_s`` keeps the service reconciling
        that long (:meth:`CloudEmulator.add_revision`). ``config`` goes to the sandbox
        (:class:`~gate.sandbox.service.SandboxConfig`, e.g. ``fault_for_s``).
        """
        self.instances[revision] = uuid.uuid4().hex * 2  # Cloud Run's ids are long hex strings
        if ready:
            sandbox = Sandbox(
                SandboxConfig(
                    fault=fault,
                    jwt_secret=self.jwt_secret,
                    audience=self.audience,
                    revision=revision,
                    service=self.service,
                    log_sink=lambda record: self._log(revision, record),
                    request_sink=lambda status, latency_s: self.emulator.record_request(
                        self.service, revision, status, latency_s
                    ),
                    **config,
                )
            )
            await sandbox.start()
            self.sandboxes[revision] = sandbox
            self.ports[revision] = sandbox.port
            if tag is not None and (self.service, tag) not in self.emulator.tag_urls:
                url = await self.router.listen(lambda: self._pick_by_tag(tag))
                self.emulator.tag_urls[(self.service, tag)] = url
        self.emulator.add_revision(
            self.service, revision, ready=ready, created=created, traffic=traffic, tag=tag,
            port=port, pending_for_s=pending_for_s, reconcile_s=reconcile_s,
        )  # fmt: skip
        if not ready:
            self._never_started(revision)

    def _never_started(self, revision: str) -> None:
        """Cloud Run's system log about a container that never listened on its port."""
        container = f"{self.service}-1"
        for severity, message in (
            ("INFO", "Starting new instance. Reason: DEPLOYMENT_ROLLOUT - Instance started due "
             "to traffic shifting between revisions or a new deployment."),
            ("ERROR", STARTUP_PROBE_FAILED.format(container=container)),
        ):  # fmt: skip
            self.emulator.write_log(
                self.service, revision, message, severity=severity, log=SYSTEM_LOG,
                delay_s=self.log_delay_s,
            )  # fmt: skip

    def _log(self, revision: str, record: dict[str, Any]) -> None:
        severity = str(record.get("severity", "DEFAULT"))
        self.emulator.write_log(
            self.service,
            revision,
            str(record.get("message", "")),
            severity=severity,
            trace=record.get("trace"),
            delay_s=self.log_delay_s,
            log=str(record.get("log", "run.googleapis.com/stderr")),
            status=record.get("status"),
            instance=self.instances.get(revision, ""),
        )

    def print_output(
        self, revision: str, text: str, *, per_line: bool = False, log: str = "stderr"
    ) -> None:
        """What the revision's container printed as plain text, as Cloud Run logs it.

        Not JSON, so no severity (``DEFAULT``) and no trace; labelled with the
        instance. ``per_line`` writes one entry per line, a microsecond apart (how
        runtimes that flush line by line arrive), else the text is one entry.
        """
        parts = text.splitlines() if per_line else [text]
        start = datetime.now(UTC)
        for index, part in enumerate(parts):
            self.emulator.write_log(
                self.service, revision, part, severity="DEFAULT",
                delay_s=self.log_delay_s, when=start + timedelta(microseconds=index),
                log=f"run.googleapis.com/{log}", instance=self.instances.get(revision, ""),
            )  # fmt: skip

    def _pick_by_traffic(self) -> int | None:
        shares = [(r, p) for r, p, _tag in self.emulator.traffic_of(self.service) if p > 0]
        if not shares:
            return None
        revisions, weights = zip(*shares, strict=True)
        chosen = random.choices(revisions, weights=weights)[0]
        return self.ports.get(chosen)

    def _pick_by_tag(self, tag: str) -> int | None:
        for revision, _percent, tagged in self.emulator.traffic_of(self.service):
            if tagged == tag:
                return self.ports.get(revision)
        return None
