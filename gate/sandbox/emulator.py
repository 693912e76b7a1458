"""A local Cloud Run Admin v2 + Cloud Logging v2 emulator, served over gRPC.

It speaks the real wire protocol with the client libraries' own message
classes (``serialize``/``deserialize``), so the gate's real google-cloud-run
and google-cloud-logging clients talk to it unchanged, only pointed at
``GATE_RUN_ENDPOINT`` / ``GATE_LOGGING_ENDPOINT``. Served methods:

* ``google.cloud.run.v2.Services``: GetService, UpdateService (a long-running
  operation; the etag must match; only the ``traffic`` field may be updated);
* ``google.cloud.run.v2.Revisions``: ListRevisions (paged), GetRevision;
* ``google.longrunning.Operations``: GetOperation;
* ``google.logging.v2.LoggingServiceV2``: ListLogEntries, paged, with a
  parser for exactly the filter subset the gate writes; any other filter is
  rejected with INVALID_ARGUMENT, never silently ignored;
* ``google.cloud.secretmanager.v1.SecretManagerService``: AccessSecretVersion
  (``latest`` is the newest version added with :meth:`CloudEmulator.add_secret`);
* ``google.monitoring.v3.MetricService``: ListTimeSeries of Cloud Run's
  ``request_count`` and ``request_latencies``, from the requests the local Cloud
  Run recorded (:meth:`CloudEmulator.record_request`), for the filter and
  aggregation subset the gate writes (:mod:`gate.sandbox.metricfilter`);
  anything else is INVALID_ARGUMENT.

An update's operation is done on its first poll, or after
:attr:`CloudEmulator.operation_delay_s`.

What the Services API answers follows captured real answers and the proto:

* a ``LATEST`` traffic status carries no revision name (a captured real v2
  GetService answer: ``trafficStatuses: [{"type":
  "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}]``); the revision it
  sends traffic to is the service's ``latest_ready_revision``;
* a deploy keeps the service ``reconciling`` for
  :attr:`CloudEmulator.reconcile_s` (or the deploy's own ``reconcile_s``), and
  meanwhile ``latest_ready_revision``, ``traffic_statuses`` and ``uri`` keep
  their values from before the deploy: google/cloud/run/v2/service.proto says
  that while ``reconciling`` is true those fields "will have transient values
  that might mismatch the intended state".

Every call is recorded in :attr:`CloudEmulator.calls` so tests can assert on
what the gate asked. Tests and the demo inject failures through
:attr:`CloudEmulator.deny` (PERMISSION_DENIED for a method),
:attr:`CloudEmulator.fail_next_update` (the next operation ends in error) and
:meth:`CloudEmulator.throttle` (the next calls of a method answer
``RESOURCE_EXHAUSTED``, or another transient code, as a throttled read does:
Cloud Logging's read quota is per project and shared by every reader, its
quota page says, and a throttled request is a 429 ``RESOURCE_EXHAUSTED``). Whether
Google adds a ``google.rpc.RetryInfo`` detail to such an answer is not
documented, so a throttle can carry one or not, and the tests try both.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import grpc
from google.cloud import monitoring_v3, run_v2, secretmanager_v1
from google.cloud.audit import audit_log_pb2
from google.cloud.logging_v2.types import ListLogEntriesRequest, ListLogEntriesResponse, LogEntry
from google.longrunning import operations_pb2
from google.protobuf import any_pb2
from google.rpc import status_pb2

from gate.sandbox.logfilter import SEVERITIES, FilterError, matches, parse_log_filter
from gate.sandbox.metricfilter import RequestRecord, time_series
from gate.sandbox.prometheus import PrometheusService

NOT_LISTENING = (
    "The user-provided container failed to start and listen on the port defined provided by "
    "the PORT=8080 environment variable within the allocated timeout. This can happen when the "
    "container port is misconfigured or if the timeout is too short."
)


@dataclass(frozen=True)
class RevisionSettings:
    """A deployed revision's settings, as GetRevision answers them.

    The defaults are what a plain ``gcloud run deploy`` gets, as ``gcloud run revisions
    describe`` shows them: ``timeout`` 300 s (revision.proto: "Max allowed time for an
    instance to respond to a request"; the request-timeout page: default 5 minutes),
    ``max_instance_request_concurrency`` 80 (the concurrency page: the default with at least
    one CPU), ``scaling.max_instance_count`` 100 (vendor_settings.proto: "the server default
    value of 100"), one CPU (``1000m``) with ``cpu_idle`` and ``startup_cpu_boost`` (the
    defaults of a service deployed since 2023), no session affinity.
    """

    timeout_s: float = 300.0
    cpu: str = "1000m"
    cpu_idle: bool = True
    startup_cpu_boost: bool = True
    concurrency: int = 80
    min_instances: int = 0
    max_instances: int = 100
    session_affinity: bool = False


def _ready_condition(ready: bool) -> Any:
    """A Ready condition that succeeded, or failed as a container that never listened."""
    state = run_v2.Condition.State
    if ready:
        return run_v2.Condition(type_="Ready", state=state.CONDITION_SUCCEEDED)
    return run_v2.Condition(
        type_="Ready",
        state=state.CONDITION_FAILED,
        revision_reason=run_v2.Condition.RevisionReason.HEALTH_CHECK_CONTAINER_ERROR,
        message=NOT_LISTENING,
    )


def _not_found(name: str) -> _Abort:
    return _Abort(grpc.StatusCode.NOT_FOUND, f"Resource '{name}' was not found")


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str, retry_delay_s: float | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_delay_s = retry_delay_s

    def status(self) -> grpc.Status:
        """The answer as a rich status, with a RetryInfo detail when a delay is asked for."""
        from google.rpc import error_details_pb2
        from grpc_status import rpc_status

        details = []
        if self.retry_delay_s is not None:
            info = error_details_pb2.RetryInfo()
            info.retry_delay.FromNanoseconds(int(self.retry_delay_s * 1e9))
            packed = any_pb2.Any()
            packed.Pack(info)
            details.append(packed)
        code = self.code.value[0]
        return rpc_status.to_status(
            status_pb2.Status(code=code, message=self.message, details=details)
        )


@dataclass
class _Throttle:
    times: int
    code: grpc.StatusCode
    retry_delay_s: float | None


@dataclass
class _Log:
    visible_at: float
    entry: Any
    timestamp: datetime


@dataclass
class Call:
    """One recorded RPC, and (for ListLogEntries) what it answered."""

    method: str
    request: Any
    answer: Any = None


@dataclass
class CloudEmulator:
    """State and gRPC server of the emulated APIs."""

    project: str = "demo-project"
    region: str = "europe-west1"
    services: dict[str, Any] = field(default_factory=dict)
    revisions: dict[str, Any] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    deny: set[str] = field(default_factory=set)
    fail_next_update: str | None = None
    operation_delay_s: float = 0.0  # how long an update's operation runs before it is done
    secrets: dict[str, list[bytes]] = field(default_factory=dict)  # versions, oldest first
    # Seconds a method's every call takes before it answers: a busy API or a slow network.
    # Google promises no latency (its SLAs are about availability), so a client must bound
    # every call itself; see slow().
    latency: dict[str, float] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)
    tag_urls: dict[tuple[str, str], str] = field(default_factory=dict)
    reconcile_s: float = 0.0  # how long a deploy keeps its service reconciling
    # Cloud Run's metrics: sampled per period, visible up to a delay later (Google: 60 s, 180 s).
    metric_period_s: float = 60.0
    metric_delay_s: float = 180.0
    # Cloud Monitoring's Prometheus API (HTTP): the PromQL queries a test registers.
    prometheus: PrometheusService = field(default_factory=PrometheusService)
    _throttles: dict[str, _Throttle] = field(default_factory=dict)
    _transient: dict[str, tuple[float, Any]] = field(default_factory=dict)
    _operations: dict[str, operations_pb2.Operation] = field(default_factory=dict)
    _settles_at: dict[str, float] = field(default_factory=dict)
    _logs: list[_Log] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _server: grpc.Server | None = None
    endpoint: str = ""

    def parent(self) -> str:
        """``projects/P/locations/R``."""
        return f"projects/{self.project}/locations/{self.region}"

    def service_name(self, service: str) -> str:
        """The full resource name of a service."""
        return f"{self.parent()}/services/{service}"

    def add_service(self, service: str, uri: str) -> None:
        """Create a service with no revision yet."""
        with self._lock:
            self.services[self.service_name(service)] = run_v2.Service(
                name=self.service_name(service),
                uri=uri,
                etag=self._etag(),
                create_time=datetime.now(UTC),
            )

    def add_revision(
        self,
        service: str,
        revision: str,
        *,
        ready: bool = True,
        created: datetime | None = None,
        traffic: bool = True,
        tag: str | None = None,
        port: str = "http1",
        pending_for_s: float = 0.0,
        reconcile_s: float | None = None,
        settings: RevisionSettings | None = None,
    ) -> None:
        """Deploy a revision: like ``gcloud run deploy``, with or without traffic and a tag.

        A revision that is not ``ready`` failed its startup probe: its Ready
        condition says so, the service keeps its latest ready revision, and its
        tag exists only in the traffic as requested. ``pending_for_s`` keeps the
        Ready condition reconciling for that long (a deploy still rolling out).
        ``port`` names the container port (``h2c``: end-to-end HTTP/2).
        ``reconcile_s`` (default :attr:`reconcile_s`) keeps the service reconciling,
        its status fields transient, for that long. ``settings``: the revision's timeout,
        CPU, concurrency, scaling and affinity (:class:`RevisionSettings`).
        """
        with self._lock:
            svc = self.services[self.service_name(service)]
            self._begin_reconciling(svc, self.reconcile_s if reconcile_s is None else reconcile_s)
            full = f"{svc.name}/revisions/{revision}"
            chosen = settings or RevisionSettings()
            self.revisions[full] = run_v2.Revision(
                name=full,
                service=svc.name,
                create_time=created or datetime.now(UTC),
                conditions=[_ready_condition(ready)],
                containers=[
                    run_v2.Container(
                        name=f"{service}-1",
                        image=f"europe-docker.pkg.dev/{self.project}/images/{service}",
                        ports=[run_v2.ContainerPort(name=port, container_port=8080)],
                        resources=run_v2.ResourceRequirements(
                            limits={"cpu": chosen.cpu, "memory": "512Mi"},
                            cpu_idle=chosen.cpu_idle,
                            startup_cpu_boost=chosen.startup_cpu_boost,
                        ),
                    )
                ],
                timeout=timedelta(seconds=chosen.timeout_s),
                max_instance_request_concurrency=chosen.concurrency,
                scaling=run_v2.RevisionScaling(
                    min_instance_count=chosen.min_instances,
                    max_instance_count=chosen.max_instances,
                ),
                session_affinity=chosen.session_affinity,
            )
            self._settles_at[full] = time.monotonic() + pending_for_s
            previous = svc.latest_ready_revision.rsplit("/", 1)[-1]
            svc.latest_created_revision = full
            if ready:
                svc.latest_ready_revision = full
            targets = [t for t in svc.traffic if t.tag and t.tag != tag and t.percent == 0]
            if traffic:
                kind = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST
                targets.insert(0, run_v2.TrafficTarget(type_=kind, percent=100))
            else:
                # Like gcloud's --no-traffic: LATEST is pinned to the revision it meant,
                # so the new revision does not take traffic by becoming the latest.
                targets = [
                    self._revision_target(previous, t.percent, t.tag) if not t.revision else t
                    for t in svc.traffic
                ]
            if tag is not None:
                targets = [t for t in targets if t.tag != tag]
                targets.append(self._revision_target(revision, 0, tag))
            self._set_traffic(svc, targets)

    def _begin_reconciling(self, svc: Any, seconds: float) -> None:
        """Keep the status fields as they are now, shown instead of the new ones for ``seconds``."""
        if seconds <= 0:
            return
        before = run_v2.Service(
            latest_ready_revision=svc.latest_ready_revision,
            traffic_statuses=list(svc.traffic_statuses),
            uri=svc.uri,
        )
        self._transient[svc.name] = (time.monotonic() + seconds, before)

    def _observed(self, svc: Any) -> Any:
        """The service as the API shows it now: a copy, transient while reconciling."""
        shown = run_v2.Service.deserialize(run_v2.Service.serialize(svc))
        until, before = self._transient.get(svc.name, (0.0, None))
        if before is not None and time.monotonic() < until:
            shown.reconciling = True
            shown.latest_ready_revision = before.latest_ready_revision
            shown.traffic_statuses = list(before.traffic_statuses)
            shown.uri = before.uri
        return shown

    def request_traffic(
        self, service: str, shares: Sequence[tuple[str, int] | tuple[str, int, str]]
    ) -> None:
        """Ask for traffic pinned to revisions by name (and tagged), as an operator would."""
        with self._lock:
            svc = self.services[self.service_name(service)]
            self._set_traffic(svc, [self._revision_target(*share) for share in shares])

    @staticmethod
    def _revision_target(revision: str, percent: int, tag: str = "") -> Any:
        kind = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
        return run_v2.TrafficTarget(type_=kind, revision=revision, percent=percent, tag=tag)

    def write_log(
        self,
        service: str,
        revision: str,
        message: str,
        *,
        severity: str = "ERROR",
        trace: str | None = None,
        delay_s: float = 0.0,
        when: datetime | None = None,
        log: str = "run.googleapis.com/stderr",
        status: int | None = None,
        instance: str = "",
        audit: tuple[str, int, str] | None = None,
    ) -> None:
        """Append a log entry as Cloud Run would; it becomes visible after ``delay_s``.

        ``log`` is the log's id (``run.googleapis.com/requests`` for the request
        log, with the request's HTTP ``status``; ``.../varlog/system``).
        ``instance`` goes in ``labels.instanceId``, as Cloud Run labels its
        container logs. ``audit`` (method, status code, status message) writes a
        Cloud Audit ``AuditLog`` as the ``protoPayload`` instead of text, as the
        ``cloudaudit.googleapis.com%2Fsystem_event`` log holds it.
        """
        timestamp = when or datetime.now(UTC)
        payload: dict[str, Any] = {"text_payload": message}
        if audit is not None:
            method, code, status_message = audit
            record = audit_log_pb2.AuditLog(
                method_name=method,
                service_name="run.googleapis.com",
                status=status_pb2.Status(code=code, message=status_message),
            )
            packed = any_pb2.Any()
            packed.Pack(record)
            payload = {"proto_payload": packed}
        entry = LogEntry(
            log_name=f"projects/{self.project}/logs/{quote(log, safe='')}",
            http_request={"status": status, "request_method": "GET"} if status else None,
            resource={
                "type": "cloud_run_revision",
                "labels": {
                    "project_id": self.project,
                    "service_name": service,
                    "revision_name": revision,
                    "location": self.region,
                    "configuration_name": service,
                },
            },
            timestamp=timestamp,
            severity=SEVERITIES[severity],
            labels={"instanceId": instance} if instance else {},
            insert_id=uuid.uuid4().hex[:16],
            trace=f"projects/{self.project}/traces/{trace}" if trace else "",
            **payload,
        )
        with self._lock:
            self._logs.append(_Log(time.monotonic() + delay_s, entry, timestamp))

    def record_request(
        self,
        service: str,
        revision: str,
        status: int,
        latency_s: float,
        when: datetime | None = None,
        location: str | None = None,
    ) -> None:
        """Count one request (or one closed WebSocket, status 101) as Cloud Run's metrics do.

        It becomes visible at the end of its sampling period (``metric_period_s``,
        counted from the epoch) plus a random share of ``metric_delay_s``.
        """
        at = when or datetime.now(UTC)
        period = self.metric_period_s
        sampled = (at.timestamp() // period + 1) * period
        visible = datetime.fromtimestamp(sampled + random.random() * self.metric_delay_s, UTC)
        record = RequestRecord(
            at, service, revision, status, latency_s * 1000, location or self.region, visible
        )
        with self._lock:
            self.requests.append(record)

    def record_user_metric(
        self,
        metric: str,
        service: str,
        revision: str,
        value: int = 1,
        labels: dict[str, str] | None = None,
        when: datetime | None = None,
    ) -> None:
        """Count ``value`` on a user counter (a log-based metric, a custom metric the app
        writes) for ``revision``, visible like Cloud Run's own metrics (a test registers it:
        the emulator serves no user metric it was not given)."""
        at = when or datetime.now(UTC)
        period = self.metric_period_s
        sampled = (at.timestamp() // period + 1) * period
        visible = datetime.fromtimestamp(sampled + random.random() * self.metric_delay_s, UTC)
        record = RequestRecord(
            at, service, revision, 0, 0.0, self.region, visible, metric,
            tuple(sorted((labels or {}).items())), value,
        )  # fmt: skip
        with self._lock:
            self.requests.append(record)

    def _list_time_series(self, request: Any) -> Any:
        self._record("ListTimeSeries", request)
        with self._lock:
            records = list(self.requests)
        try:
            series = time_series(
                request, records, self.project, self.metric_period_s, datetime.now(UTC)
            )
        except ValueError as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        return monitoring_v3.ListTimeSeriesResponse(time_series=series)

    def add_secret(self, secret: str, value: str) -> str:
        """Add a version of ``secret`` (``projects/P/secrets/S``); returns its full name."""
        with self._lock:
            versions = self.secrets.setdefault(secret, [])
            versions.append(value.encode())
            return f"{secret}/versions/{len(versions)}"

    def _access_secret(self, request: Any) -> Any:
        self._record("AccessSecretVersion", request)
        secret, _, version = request.name.partition("/versions/")
        with self._lock:
            versions = self.secrets.get(secret, [])
            index = (
                len(versions) if version == "latest" else (int(version) if version.isdigit() else 0)
            )
            if not 1 <= index <= len(versions):
                raise _not_found(request.name)
            data = versions[index - 1]
        return secretmanager_v1.AccessSecretVersionResponse(
            name=f"{secret}/versions/{index}", payload=secretmanager_v1.SecretPayload(data=data)
        )

    def traffic_of(self, service: str) -> list[tuple[str, int, str]]:
        """The traffic a service serves now: (revision, percent, tag) per status, LATEST resolved.

        Lock-free on purpose: the router asks from its event loop on every
        connection, and must not wait while a gRPC thread updates the traffic.
        While the service reconciles, what serves is still what served before.
        """
        svc = self._observed(self.services[self.service_name(service)])
        latest = svc.latest_ready_revision.rsplit("/", 1)[-1]
        return [(s.revision or latest, s.percent, s.tag) for s in list(svc.traffic_statuses)]

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method."""
        return [c for c in self.calls if c.method == method]

    def _etag(self) -> str:
        return f'"{uuid.uuid4().hex[:12]}"'

    def _set_traffic(self, svc: Any, targets: list[Any]) -> None:
        svc.traffic = targets
        statuses = []
        latest = svc.latest_ready_revision.rsplit("/", 1)[-1]
        short = svc.name.rsplit("/", 1)[-1]
        for target in targets:
            revision = target.revision or latest
            if not self._is_ready(f"{svc.name}/revisions/{revision}"):
                continue  # a revision that never became ready serves nothing
            uri = ""
            if target.tag:
                uri = self.tag_urls.get((short, target.tag), "")
                uri = uri or f"https://{target.tag}---{short}-emulated.a.run.app"
            statuses.append(
                run_v2.TrafficTargetStatus(
                    type_=target.type_,
                    revision=target.revision,  # LATEST: no name, as Google answers
                    percent=target.percent,
                    tag=target.tag,
                    uri=uri,
                )
            )
        svc.traffic_statuses = statuses
        svc.etag = self._etag()

    def throttle(
        self,
        method: str,
        times: int = 1,
        retry_delay_s: float | None = None,
        code: grpc.StatusCode = grpc.StatusCode.RESOURCE_EXHAUSTED,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with ``code`` (and a RetryInfo delay)."""
        with self._lock:
            self._throttles[method] = _Throttle(times, code, retry_delay_s)

    def slow(self, method: str, seconds: float) -> None:
        """Make every call of ``method`` answer only after ``seconds`` (0 for no delay)."""
        with self._lock:
            self.latency[method] = seconds

    def _record(self, method: str, request: Any) -> Call:
        call = Call(method, request)
        delay = self.latency.get(method, 0.0)
        if delay > 0:
            time.sleep(delay)  # a gRPC worker thread of this emulator; the caller's timeout rules
        with self._lock:
            self.calls.append(call)
            throttle = self._throttles.get(method)
            if throttle is not None and throttle.times > 0:
                throttle.times -= 1
                raise _Abort(
                    throttle.code,
                    f"Quota exceeded for quota metric 'Read requests' and limit 'Read requests "
                    f"per minute' of service for {method}",
                    throttle.retry_delay_s,
                )
        if method in self.deny:
            raise _Abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"Permission denied on resource (or it may not exist) for {method}",
            )
        return call

    def _get_service(self, request: Any) -> Any:
        self._record("GetService", request)
        with self._lock:
            svc = self.services.get(request.name)
            if svc is None:
                raise _not_found(request.name)
            return self._observed(svc)

    def _update_service(self, request: Any) -> operations_pb2.Operation:
        self._record("UpdateService", request)
        with self._lock:
            incoming = request.service
            svc = self.services.get(incoming.name)
            if svc is None:
                raise _not_found(incoming.name)
            paths = list(request.update_mask.paths)
            if paths != ["traffic"]:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"the emulator updates only traffic, got update_mask {paths}",
                )
            if incoming.etag and incoming.etag != svc.etag:
                raise _Abort(
                    grpc.StatusCode.ABORTED,
                    "The service has been modified since it was read (etag mismatch)",
                )
            self._validate_traffic(svc, list(incoming.traffic))
            name = f"{self.parent()}/operations/{uuid.uuid4()}"
            failure = self.fail_next_update
            self.fail_next_update = None
            if failure is None:
                self._set_traffic(svc, list(incoming.traffic))
            snapshot = run_v2.Service.serialize(svc)
            packed = any_pb2.Any(
                type_url="type.googleapis.com/google.cloud.run.v2.Service", value=snapshot
            )
            done = operations_pb2.Operation(name=name, done=True)
            if failure is None:
                done.response.CopyFrom(packed)
            else:
                done.error.CopyFrom(status_pb2.Status(code=9, message=failure))
            done.metadata.CopyFrom(packed)
            self._operations[name] = done
            self._settles_at[name] = time.monotonic() + self.operation_delay_s
            return operations_pb2.Operation(name=name, done=False, metadata=packed)

    def _validate_traffic(self, svc: Any, targets: list[Any]) -> None:
        total = sum(t.percent for t in targets)
        if total != 100:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"traffic percents add up to {total}")
        for target in targets:
            if target.revision and f"{svc.name}/revisions/{target.revision}" not in self.revisions:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT, f"revision {target.revision} does not exist"
                )

    def _get_operation(self, request: operations_pb2.GetOperationRequest) -> Any:
        self._record("GetOperation", request)
        with self._lock:
            operation = self._operations.get(request.name)
            running = self._settles_at.get(request.name, 0.0) > time.monotonic()
        if operation is None:
            raise _not_found(request.name)
        if running:
            return operations_pb2.Operation(
                name=operation.name, done=False, metadata=operation.metadata
            )
        return operation

    def _list_revisions(self, request: Any) -> Any:
        self._record("ListRevisions", request)
        with self._lock:
            if request.parent not in self.services:
                raise _not_found(request.parent)
            found = sorted(
                (self._view(r) for r in self.revisions.values() if r.service == request.parent),
                key=lambda r: r.create_time,
                reverse=True,
            )
            page = self._page(found, request.page_size or 50, request.page_token)
            return run_v2.ListRevisionsResponse(revisions=page[0], next_page_token=page[1])

    def _get_revision(self, request: Any) -> Any:
        self._record("GetRevision", request)
        with self._lock:
            revision = self.revisions.get(request.name)
        if revision is None:
            raise _not_found(request.name)
        return self._view(revision)

    def _is_ready(self, name: str) -> bool:
        """Whether the revision became (or will become, once deployed) ready."""
        revision = self.revisions.get(name)
        return revision is not None and revision.conditions[0].state == (
            run_v2.Condition.State.CONDITION_SUCCEEDED
        )

    def _view(self, revision: Any) -> Any:
        """The revision as read now: still reconciling until its ``pending_for_s`` is over."""
        if time.monotonic() >= self._settles_at.get(revision.name, 0.0):
            return revision
        view = run_v2.Revision.deserialize(run_v2.Revision.serialize(revision))
        view.conditions = [
            run_v2.Condition(
                type_="Ready",
                state=run_v2.Condition.State.CONDITION_RECONCILING,
                revision_reason=run_v2.Condition.RevisionReason.PENDING,
                message="Deploying revision.",
            )
        ]
        return view

    def _list_log_entries(self, request: Any) -> Any:
        call = self._record("ListLogEntries", request)
        if list(request.resource_names) != [f"projects/{self.project}"]:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"resource_names must be [projects/{self.project}]",
            )
        try:
            condition = parse_log_filter(request.filter)
        except FilterError as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        if request.order_by not in ("", "timestamp asc", "timestamp desc"):
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"order_by {request.order_by!r}")
        now = time.monotonic()
        with self._lock:
            visible = [
                log
                for log in self._logs
                if log.visible_at <= now and matches(condition, log.entry, log.timestamp)
            ]
        visible.sort(key=lambda log: log.timestamp, reverse=request.order_by == "timestamp desc")
        entries, token = self._page(
            [log.entry for log in visible], min(request.page_size or 50, 1000), request.page_token
        )
        call.answer = ListLogEntriesResponse(entries=entries, next_page_token=token)
        return call.answer

    @staticmethod
    def _page(items: list[Any], size: int, token: str) -> tuple[list[Any], str]:
        try:
            start = int(token) if token else 0
        except ValueError:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad page token {token!r}") from None
        end = start + size
        return items[start:end], (str(end) if end < len(items) else "")

    def _handler(self, func: Callable[[Any], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        def call(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                return func(request)
            except _Abort as abort:
                context.abort_with_status(abort.status())

        return call

    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1; returns the ``host:port`` endpoint."""
        unary = grpc.unary_unary_rpc_method_handler

        def method(func: Callable[[Any], Any], request: Any, response: Any) -> Any:
            return unary(
                self._handler(func),
                request_deserializer=request,
                response_serializer=response,
            )

        handlers = [
            grpc.method_handlers_generic_handler(
                "google.cloud.run.v2.Services",
                {
                    "GetService": method(
                        self._get_service,
                        run_v2.GetServiceRequest.deserialize,
                        run_v2.Service.serialize,
                    ),
                    "UpdateService": method(
                        self._update_service,
                        run_v2.UpdateServiceRequest.deserialize,
                        operations_pb2.Operation.SerializeToString,
                    ),
                },
            ),
            grpc.method_handlers_generic_handler(
                "google.cloud.run.v2.Revisions",
                {
                    "ListRevisions": method(
                        self._list_revisions,
                        run_v2.ListRevisionsRequest.deserialize,
                        run_v2.ListRevisionsResponse.serialize,
                    ),
                    "GetRevision": method(
                        self._get_revision,
                        run_v2.GetRevisionRequest.deserialize,
                        run_v2.Revision.serialize,
                    ),
                },
            ),
            grpc.method_handlers_generic_handler(
                "google.longrunning.Operations",
                {
                    "GetOperation": method(
                        self._get_operation,
                        operations_pb2.GetOperationRequest.FromString,
                        operations_pb2.Operation.SerializeToString,
                    ),
                },
            ),
            grpc.method_handlers_generic_handler(
                "google.monitoring.v3.MetricService",
                {
                    "ListTimeSeries": method(
                        self._list_time_series,
                        monitoring_v3.ListTimeSeriesRequest.deserialize,
                        monitoring_v3.ListTimeSeriesResponse.serialize,
                    ),
                },
            ),
            grpc.method_handlers_generic_handler(
                "google.cloud.secretmanager.v1.SecretManagerService",
                {
                    "AccessSecretVersion": method(
                        self._access_secret,
                        secretmanager_v1.AccessSecretVersionRequest.deserialize,
                        secretmanager_v1.AccessSecretVersionResponse.serialize,
                    ),
                },
            ),
            grpc.method_handlers_generic_handler(
                "google.logging.v2.LoggingServiceV2",
                {
                    "ListLogEntries": method(
                        self._list_log_entries,
                        ListLogEntriesRequest.deserialize,
                        ListLogEntriesResponse.serialize,
                    ),
                },
            ),
        ]
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        server.add_generic_rpc_handlers(handlers)
        bound = server.add_insecure_port(f"127.0.0.1:{port}")
        server.start()
        self._server = server
        self.endpoint = f"127.0.0.1:{bound}"
        self.prometheus.project = self.project
        self.prometheus.start()
        return self.endpoint

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.stop(grace=None)
            self._server = None
        self.prometheus.stop()
