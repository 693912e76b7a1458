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
import functools
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gate.cloud.model import SYSTEM_LOG
from gate.sandbox.connections import Connections
from gate.sandbox.emulator import CloudEmulator, RevisionSettings
from gate.sandbox.frontend import STARTUP_PROBE_FAILED
from gate.sandbox.rooms import Rooms
from gate.sandbox.service import Sandbox, SandboxConfig

_PIPE_CHUNK = 64 * 1024
TIMEOUT_MESSAGE = (
    "The request has been terminated because it has reached the maximum request timeout. "
    "To change this limit, see https://cloud.google.com/run/docs/configuring/request-timeout"
)
"""Cloud Run's request-log text at a request timeout (cloud-run-facts, the error table)."""


@dataclass(frozen=True)
class Backend:
    """Where the router sends one connection, and when Cloud Run would cut it.

    ``timeout_s``: the revision's request timeout. At that age Cloud Run ends the request,
    a WebSocket included, without a close frame (the client sees 1006), and its request log
    says so at ERROR (the request-timeout page; cloud-run-facts: "the connection just ends").
    """

    port: int
    timeout_s: float | None = None
    on_timeout: Callable[[], None] = lambda: None
    on_close: Callable[[], None] = lambda: None


class Router:
    """TCP listeners on 127.0.0.1 forwarding each connection to a chosen backend port."""

    def __init__(self) -> None:
        self._servers: list[asyncio.Server] = []
        self._connections = Connections()

    async def listen(self, pick: Callable[[], Backend | None]) -> str:
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
        pick: Callable[[], Backend | None],
    ) -> None:
        backend = pick()
        if backend is None:
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend.port)
        pipes = asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        try:
            async with asyncio.timeout(backend.timeout_s):
                await pipes
        except TimeoutError:
            backend.on_timeout()
            writer.transport.abort()  # no close frame: the request just ends
        finally:
            up_writer.close()
            backend.on_close()

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
        self.replicas: dict[str, list[Sandbox]] = {}  # revision -> its instances, in order
        self.instances: dict[str, list[str]] = {}  # revision -> its instances' ids
        self.sandboxes: dict[str, Sandbox] = {}  # revision -> its first instance
        self.timeouts: dict[str, float] = {}  # revision -> its request timeout
        self.concurrency: dict[str, int] = {}  # revision -> requests an instance takes at once
        self.open: dict[str, list[int]] = {}  # revision -> open connections per instance
        self.label_request_log = True
        """Whether request-log entries carry ``labels.instanceId``: Google documents the
        label on container logs and does not say for the request log, so tests run both."""
        self.url = ""

    async def __aenter__(self) -> LocalCloudRun:
        if self._owns_emulator:
            self.emulator.start()
        self.url = await self.router.listen(self._pick_by_traffic)
        self.emulator.add_service(self.service, self.url)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.router.stop()
        for replicas in self.replicas.values():
            for sandbox in replicas:
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
            "GATE_PROMETHEUS_ENDPOINT": self.emulator.prometheus.url,
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
        settings: RevisionSettings | None = None,
        instances: int = 1,
        **config: Any,
    ) -> None:
        """Start a sandbox revision and record it as deployed, like ``gcloud run deploy``.

        A revision that is not ``ready`` never listens: no sandbox starts, and
        Cloud Run's system log says the startup probe failed, as it does about
        240 s after such a deploy. ``reconcile_s`` keeps the service reconciling
        that long (:meth:`CloudEmulator.add_revision`). ``settings`` are the revision's
        (its request timeout cuts every connection at that age); ``instances`` sandboxes
        serve it, each new connection going to the next (as Cloud Run spreads requests
        over a revision's instances), their chat rooms shared (a shared pub/sub) unless the
        fault is ``no-pubsub``. ``config`` goes to each sandbox
        (:class:`~gate.sandbox.service.SandboxConfig`, e.g. ``fault_for_s``).
        """
        # Cloud Run's instance ids are long hex strings.
        ids = [uuid.uuid4().hex * 2 for _ in range(max(1, instances))]
        self.instances[revision] = ids
        self.timeouts[revision] = (settings or RevisionSettings()).timeout_s
        self.concurrency[revision] = (settings or RevisionSettings()).concurrency
        if ready:
            shared = Rooms() if fault != "no-pubsub" else None
            replicas = []
            for instance in ids:
                sandbox = Sandbox(
                    SandboxConfig(
                        fault=fault,
                        jwt_secret=self.jwt_secret,
                        audience=self.audience,
                        revision=revision,
                        service=self.service,
                        log_sink=functools.partial(self._log, revision, instance=instance),
                        request_sink=lambda status, latency_s: self.emulator.record_request(
                            self.service, revision, status, latency_s
                        ),
                        rooms=shared,
                        **config,
                    )
                )
                await sandbox.start()
                replicas.append(sandbox)
            self.replicas[revision] = replicas
            self.sandboxes[revision] = replicas[0]
            self.open[revision] = [0] * len(replicas)
            if tag is not None and (self.service, tag) not in self.emulator.tag_urls:
                url = await self.router.listen(lambda: self._pick_by_tag(tag))
                self.emulator.tag_urls[(self.service, tag)] = url
        self.emulator.add_revision(
            self.service, revision, ready=ready, created=created, traffic=traffic, tag=tag,
            port=port, pending_for_s=pending_for_s, reconcile_s=reconcile_s, settings=settings,
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

    def _log(self, revision: str, record: dict[str, Any], instance: str = "") -> None:
        severity = str(record.get("severity", "DEFAULT"))
        log = str(record.get("log", "run.googleapis.com/stderr"))
        if log == "run.googleapis.com/requests" and not self.label_request_log:
            instance = "-"  # no label at all (the first instance is not named either)
        self.emulator.write_log(
            self.service,
            revision,
            str(record.get("message", "")),
            severity=severity,
            trace=record.get("trace"),
            delay_s=self.log_delay_s,
            log=log,
            status=record.get("status"),
            instance="" if instance == "-" else instance or self._first_instance(revision),
        )

    def _first_instance(self, revision: str) -> str:
        return (self.instances.get(revision) or [""])[0]

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
                log=f"run.googleapis.com/{log}", instance=self._first_instance(revision),
            )  # fmt: skip

    def _pick_by_traffic(self) -> Backend | None:
        shares = [(r, p) for r, p, _tag in self.emulator.traffic_of(self.service) if p > 0]
        if not shares:
            return None
        revisions, weights = zip(*shares, strict=True)
        return self._backend(random.choices(revisions, weights=weights)[0])

    def _pick_by_tag(self, tag: str) -> Backend | None:
        for revision, _percent, tagged in self.emulator.traffic_of(self.service):
            if tagged == tag:
                return self._backend(revision)
        return None

    def _backend(self, revision: str) -> Backend | None:
        """The first instance of ``revision`` with room under its concurrency (the
        concurrency page: an instance takes at most that many requests at once), else the
        one with the fewest open connections, and the revision's request timeout. Cloud Run
        would start more instances up to the maximum; the local one has a fixed set."""
        replicas = self.replicas.get(revision)
        if not replicas:
            return None
        counts = self.open[revision]
        limit = self.concurrency.get(revision) or 80
        free = [i for i, count in enumerate(counts) if count < limit]
        index = free[0] if free else counts.index(min(counts))
        counts[index] += 1
        timeout = self.timeouts.get(revision)

        def closed() -> None:
            counts[index] -= 1

        def cut() -> None:
            self.emulator.write_log(
                self.service, revision, TIMEOUT_MESSAGE, severity="ERROR",
                log="run.googleapis.com/requests", status=504, delay_s=self.log_delay_s,
                instance=self.instances[revision][index],
            )  # fmt: skip

        return Backend(replicas[index].port, timeout, cut, closed)
