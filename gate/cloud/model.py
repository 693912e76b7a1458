"""Plain records of what the Cloud Run and Cloud Logging APIs returned, and the interfaces.

Nothing here imports a Google library: :mod:`gate.cloud.run` and
:mod:`gate.cloud.logs` convert every API object into these records at once, so
the layers above (traffic decisions, checks, orchestration) are typed and can
be tested on hand-built values. :class:`RunApi` and :class:`LogsApi` are what
those layers need from the clients.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from gate.model import LogKind, TrafficBlock, TrafficKind


@dataclass(frozen=True)
class TrafficEntry:
    """One traffic target; ``revision`` is resolved for LATEST in statuses."""

    kind: TrafficKind
    revision: str
    percent: int
    tag: str = ""
    uri: str = ""

    def as_dict(self) -> TrafficBlock:
        """JSON form, for reports and snapshots."""
        return {
            "type": self.kind,
            "revision": self.revision,
            "percent": self.percent,
            "tag": self.tag,
            "uri": self.uri,
        }

    @classmethod
    def from_dict(cls, data: TrafficBlock) -> TrafficEntry:
        """Inverse of :meth:`as_dict`."""
        return cls(data["type"], data["revision"], data["percent"], data["tag"], data["uri"])


@dataclass(frozen=True)
class ServiceState:
    """A Cloud Run service as read, with its etag."""

    name: str
    uri: str
    etag: str
    latest_ready: str
    traffic: tuple[TrafficEntry, ...]
    statuses: tuple[TrafficEntry, ...]
    latest_created: str = ""
    reconciling: bool = False

    @property
    def short_name(self) -> str:
        """The service id without project and region."""
        return self.name.rsplit("/", 1)[-1]

    def serving(self) -> str:
        """The revisions receiving traffic, as ``rev (100%)`` text."""
        shares = [f"{s.revision} ({s.percent}%)" for s in self.statuses if s.percent > 0]
        return ", ".join(shares) or "nothing"

    def percent_of(self, revision: str) -> int:
        """The share of traffic ``revision`` receives."""
        return sum(s.percent for s in self.statuses if s.revision == revision)

    def tag_of(self, revision: str) -> TrafficEntry | None:
        """The tagged status of ``revision``, if it has one."""
        return next((s for s in self.statuses if s.revision == revision and s.tag), None)

    def tagged(self, tag: str) -> TrafficEntry | None:
        """The traffic target carrying ``tag``: its status (revision, tag URL) when it has one.

        A tag is looked up in the traffic as requested too: the tag of a revision
        that never became ready exists only there (without a URL), and must still
        lead to that revision rather than to "no such tag".
        """
        status = next((s for s in self.statuses if s.tag == tag), None)
        return status or next((t for t in self.traffic if t.tag == tag and t.revision), None)


ReadyState = Literal["ready", "failed", "pending"]
REQUEST_LOG = "run.googleapis.com/requests"
"""Cloud Run's request log: one entry per request, written by the front end."""
SYSTEM_LOG = "run.googleapis.com/varlog/system"
"""Cloud Run's system log: instance starts, startup probes, memory kills."""
SEVERITIES = ("DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT",
              "EMERGENCY")  # fmt: skip
"""Cloud Logging's severities, least severe first (google/logging/type/log_severity.proto)."""


def severity_rank(severity: str) -> int:
    """The position of ``severity`` in :data:`SEVERITIES` (-1 for an unknown one)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


AUDIT_LOG = "cloudaudit.googleapis.com/system_event"
"""Cloud Audit's system events: what Cloud Run did to a revision (its method and status)."""
CONTAINER_LOGS = ("run.googleapis.com/stdout", "run.googleapis.com/stderr")
"""What the container wrote to stdout and stderr: its own lines, plain text or JSON."""


@dataclass(frozen=True)
class RevisionConfig:
    """The settings of a revision that decide how a WebSocket service behaves on Cloud Run.

    Read from the revision (Cloud Run Admin v2, google/cloud/run/v2/revision.proto,
    vendor_settings.proto, k8s.min.proto); each default is Cloud Run's for a field the answer
    leaves unset: ``timeout_s`` (``timeout``, 300 s; every request, a socket included, ends at
    that age), ``cpu_idle`` (``containers[].resources.cpu_idle``: CPU only while requests
    run; true when the container has no ``resources`` at all, as the proto says),
    ``startup_cpu_boost``, ``cpu`` (the ``cpu`` limit in CPUs, 1 when unset),
    ``concurrency`` (``max_instance_request_concurrency``; 0 is the platform default),
    ``min_instances``/``max_instances`` (``scaling``; a max of 0 is unset: the server default,
    100), ``session_affinity``.
    """

    timeout_s: float = 300.0
    cpu_idle: bool = True
    startup_cpu_boost: bool = False
    cpu: float = 1.0
    concurrency: int = 0
    min_instances: int = 0
    max_instances: int = 0
    session_affinity: bool = False

    @property
    def effective_concurrency(self) -> int:
        """Requests an instance takes at once: the setting, or the platform default (80 with
        at least one CPU, 1 below: Cloud Run's concurrency page)."""
        if self.concurrency > 0:
            return self.concurrency
        return 80 if self.cpu >= 1 else 1

    @property
    def effective_max_instances(self) -> int:
        """The most instances the revision scales to: the setting, or Cloud Run's default 100."""
        return self.max_instances if self.max_instances > 0 else 100

    @property
    def capacity(self) -> int:
        """The most requests (sockets included) the revision serves at once."""
        return self.effective_concurrency * self.effective_max_instances


@dataclass(frozen=True)
class RevisionInfo:
    """A revision's name, creation time, and its Ready condition.

    ``state`` is the Ready condition's state (``pending`` while Cloud Run still
    reconciles it); ``reason`` and ``message`` are the condition's, as Cloud Run
    wrote them (e.g. the container did not listen on ``PORT``); ``ports`` the
    names of its container ports (``h2c`` means end-to-end HTTP/2).
    """

    name: str
    created: datetime
    state: ReadyState = "ready"
    reason: str = ""
    message: str = ""
    ports: tuple[str, ...] = ()
    config: RevisionConfig = field(default_factory=RevisionConfig)

    @property
    def ready(self) -> bool:
        """True when the revision's Ready condition succeeded."""
        return self.state == "ready"


@dataclass(frozen=True)
class LogRecord:
    """One log entry, reduced to what grouping and the report need.

    ``log`` is the log's id (``run.googleapis.com/requests`` for Cloud Run's
    request log, ``run.googleapis.com/varlog/system`` for its system log, else
    the container's stdout/stderr); ``status`` the HTTP status of a request-log
    entry; ``instance`` the instance that wrote it (``labels.instanceId``);
    ``service`` and ``revision`` its resource's labels. ``group`` and ``kind``
    are set when several entries were read as one (an uncaught-exception
    report, :mod:`gate.checks.uncaught`): what groups it, and its log kind.
    """

    timestamp: datetime
    severity: str
    message: str
    trace: str
    insert_id: str
    log: str = ""
    status: int | None = None
    instance: str = ""
    service: str = ""
    revision: str = ""
    location: str = ""
    group: str = ""
    kind: LogKind | None = None


def previous_ready(revisions: Sequence[RevisionInfo], before: str) -> RevisionInfo | None:
    """The newest ready revision created before ``before``, if there is one."""
    pivot = next((r.created for r in revisions if r.name == before), None)
    if pivot is None:
        return None
    older = [r for r in revisions if r.ready and r.created < pivot]
    return max(older, key=lambda r: r.created, default=None)


@dataclass(frozen=True)
class LogFetch:
    """What polling Cloud Logging found for one revision, and what it took."""

    filter: str
    entries: tuple[LogRecord, ...]
    calls: int
    settle_s: float
    truncated: bool
    duration_ms: float
    revision: str


class RunApi(Protocol):
    """The Cloud Run Admin API calls the gate makes, for one service."""

    async def service(self) -> ServiceState:
        """Read the service (URL, etag, traffic)."""
        ...

    async def revision(self, name: str) -> RevisionInfo:
        """Read one revision of the service."""
        ...

    async def revisions(self) -> list[RevisionInfo]:
        """Every revision of the service, newest first."""
        ...

    async def set_traffic(self, etag: str, traffic: Sequence[TrafficEntry]) -> ServiceState:
        """Replace the traffic split, guarded by ``etag``; the service as updated."""
        ...


class LogsApi(Protocol):
    """The Cloud Logging read the gate makes."""

    async def fetch(self, log_filter: str) -> tuple[list[LogRecord], int, bool]:
        """Every entry matching ``log_filter``: entries, list calls made, truncated."""
        ...


@dataclass(frozen=True)
class Latency:
    """A latency distribution in milliseconds, as Cloud Monitoring's buckets hold it.

    ``bounds`` are the finite buckets' boundaries, increasing; ``counts`` has one
    more entry than ``bounds``: the underflow bucket (below ``bounds[0]``), the
    finite buckets, and the overflow bucket (from ``bounds[-1]`` up).
    """

    bounds: tuple[float, ...]
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        """How many requests the distribution holds."""
        return sum(self.counts)

    def merged(self, other: Latency) -> Latency:
        """Both distributions in one (same buckets; otherwise the larger one wins)."""
        if other.bounds != self.bounds:
            return self if self.total >= other.total else other
        summed = tuple(a + b for a, b in zip(self.counts, other.counts, strict=True))
        return Latency(self.bounds, summed)

    def percentile(self, fraction: float) -> float | None:
        """The value below which ``fraction`` of the requests fall, interpolated in its bucket."""
        total = self.total
        if total == 0:
            return None
        wanted = fraction * total
        seen = 0.0
        for index, count in enumerate(self.counts):
            if count and seen + count >= wanted:
                low = self.bounds[index - 1] if index > 0 else 0.0
                if index >= len(self.bounds):
                    return low  # in the overflow bucket: at least its lower bound
                high = self.bounds[index]
                return low + (high - low) * (wanted - seen) / count
            seen += count
        return self.bounds[-1] if self.bounds else None


@dataclass(frozen=True)
class Traffic:
    """What one revision (or a group of them) served in a window."""

    requests: int = 0
    errors: int = 0
    latency: Latency | None = None

    @property
    def http_requests(self) -> int:
        """The requests the latency covers (every class but ``1xx``)."""
        return self.latency.total if self.latency is not None else 0

    @property
    def error_ratio(self) -> float | None:
        """The share of 5xx answers, or ``None`` without requests."""
        return self.errors / self.requests if self.requests else None

    def __add__(self, other: Traffic) -> Traffic:
        latency = self.latency
        if other.latency is not None:
            latency = other.latency if latency is None else latency.merged(other.latency)
        return Traffic(self.requests + other.requests, self.errors + other.errors, latency)


def combine(parts: Iterable[Traffic]) -> Traffic:
    """Several revisions' traffic as one side of the comparison."""
    total = Traffic()
    for part in parts:
        total = total + part
    return total
