"""Cloud Run Admin API v2: read a service and its revisions, and move traffic safely.

Traffic changes update only ``name``, ``etag`` and ``traffic`` (update mask
``traffic``) and carry the etag read before the gate's checks, so a concurrent
change is never overwritten: the API refuses, and the gate stops (exit 3).
Every call is bounded by the :class:`~gate.cloud.calls.Budget` it is given;
the long-running operation of an update is awaited within it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from gate.cloud.calls import Budget
from gate.cloud.model import ReadyState, RevisionConfig, RevisionInfo, ServiceState, TrafficEntry
from gate.errors import GateFailure
from gate.model import TrafficKind
from gate.timing import Stopwatch

VIEWER = "roles/run.viewer"
DEVELOPER = "roles/run.developer"
_KINDS: dict[int, TrafficKind] = {1: "LATEST", 2: "REVISION"}
RECONCILE_POLL_S = 1.0
"""How often a reconciling service is read again until it settles."""


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _entry(target: Any, uri: str = "", latest: str = "") -> TrafficEntry:
    kind = _KINDS.get(int(target.type_), "REVISION")
    return TrafficEntry(
        kind=kind,
        revision=target.revision or (latest if kind == "LATEST" else ""),
        percent=int(target.percent),
        tag=target.tag,
        uri=uri,
    )


def _state(service: Any) -> ServiceState:
    """The service as read, ``LATEST`` statuses resolved through ``latest_ready_revision``.

    A captured real v2 GetService answer carries ``trafficStatuses: [{"type":
    "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}]`` with no revision
    name (the proto only says "Revision to which this traffic is sent"), so the
    name is taken from the latest ready revision, which is what LATEST follows.
    The traffic as requested keeps its empty name: that is what was asked for.
    ``reconciling`` is kept so that callers can wait for transient values to settle.
    """
    latest = _short(service.latest_ready_revision)
    return ServiceState(
        name=service.name,
        uri=service.uri,
        etag=service.etag,
        latest_ready=latest,
        traffic=tuple(_entry(t) for t in service.traffic),
        statuses=tuple(_entry(s, s.uri, latest) for s in service.traffic_statuses),
        latest_created=_short(service.latest_created_revision),
        reconciling=bool(service.reconciling),
    )


def _cpus(limit: str) -> float:
    """A Kubernetes CPU quantity (``1``, ``2``, ``1000m``, ``0.5``) in CPUs; 1 if unreadable."""
    try:
        return float(limit[:-1]) / 1000 if limit.endswith("m") else float(limit)
    except ValueError:
        return 1.0


def _config(revision: Any) -> RevisionConfig:
    """The WebSocket-relevant settings (:class:`~gate.cloud.model.RevisionConfig`): fields the
    answer leaves unset keep Cloud Run's defaults. The first container is the serving one
    (ingress goes to the container with the port)."""
    serving = next((c for c in revision.containers if c.ports), None)
    if serving is None and revision.containers:
        serving = revision.containers[0]
    timeout = revision.timeout.total_seconds() if "timeout" in revision else 0.0
    config = RevisionConfig(
        timeout_s=timeout if timeout > 0 else 300.0,
        concurrency=int(revision.max_instance_request_concurrency),
        min_instances=int(revision.scaling.min_instance_count) if "scaling" in revision else 0,
        max_instances=int(revision.scaling.max_instance_count) if "scaling" in revision else 0,
        session_affinity=bool(revision.session_affinity),
    )
    if serving is not None and "resources" in serving:
        resources = serving.resources
        config = replace(
            config,
            cpu_idle=bool(resources.cpu_idle),
            startup_cpu_boost=bool(resources.startup_cpu_boost),
            cpu=_cpus(str(resources.limits.get("cpu", "1"))),
        )
    return config


def _reason(condition: Any) -> str:
    """The condition's reason, whichever of its reason fields Cloud Run filled."""
    for reason in (condition.revision_reason, condition.reason):
        if int(reason) != 0:
            return str(reason.name)
    return ""


def _revision(revision: Any) -> RevisionInfo:
    from google.cloud import run_v2

    states = run_v2.Condition.State
    ready = next((c for c in revision.conditions if c.type_ == "Ready"), None)
    state: ReadyState = "pending"
    if ready is not None and ready.state == states.CONDITION_SUCCEEDED:
        state = "ready"
    elif ready is not None and ready.state == states.CONDITION_FAILED:
        state = "failed"
    ports = tuple(p.name for c in revision.containers for p in c.ports if p.name)
    return RevisionInfo(
        config=_config(revision),
        name=_short(revision.name),
        created=revision.create_time,
        state=state,
        reason=_reason(ready) if ready is not None else "",
        message=ready.message if ready is not None else "",
        ports=ports,
    )


def _clients(endpoint: str | None) -> tuple[Any, Any]:
    """Services and Revisions clients: plaintext to ``endpoint`` (an emulator), else Google's."""
    from google.cloud import run_v2

    if not endpoint:
        return run_v2.ServicesClient(), run_v2.RevisionsClient()
    import grpc
    from google.cloud.run_v2.services.revisions.transports import RevisionsGrpcTransport
    from google.cloud.run_v2.services.services.transports import ServicesGrpcTransport

    channel = grpc.insecure_channel(endpoint)
    return (
        run_v2.ServicesClient(transport=ServicesGrpcTransport(channel=channel)),
        run_v2.RevisionsClient(transport=RevisionsGrpcTransport(channel=channel)),
    )


class CloudRun:
    """One service of one project and region, implementing :class:`~gate.cloud.model.RunApi`.

    Create it with :meth:`connect`: building the clients may read credentials
    from disk or the metadata server, which is blocking work too.
    """

    def __init__(
        self,
        name: str,
        services: Any,
        revisions: Any,
        budget: Budget,
        on_wait: Callable[[str], None] = lambda _message: None,
    ) -> None:
        self.name = name
        self._services = services
        self._revisions = revisions
        self.budget = budget
        self.on_wait = on_wait

    @classmethod
    async def connect(
        cls, project: str, region: str, service: str, budget: Budget, endpoint: str | None = None
    ) -> CloudRun:
        """Build the clients within ``budget`` (``endpoint``: an emulator's host:port)."""
        services, revisions = await budget.call(
            lambda: _clients(endpoint), "connect to the Cloud Run Admin API", VIEWER
        )
        name = f"projects/{project}/locations/{region}/services/{service}"
        return cls(name, services, revisions, budget)

    def close(self) -> None:
        """Close the clients' channels (the emulator's server may stop right after)."""
        for client in (self._services, self._revisions):
            client.transport.close()

    def within(self, budget: Budget) -> CloudRun:
        """The same clients, with calls bounded by another budget (e.g. the actions')."""
        return CloudRun(self.name, self._services, self._revisions, budget, self.on_wait)

    async def _read_service(self) -> ServiceState:
        b = self.budget
        found = await b.read(
            lambda: self._services.get_service(name=self.name, timeout=b.timeout(), retry=None),
            f"read service {self.name}",
            VIEWER,
        )
        return _state(found)

    async def service(self) -> ServiceState:
        """Read the service (URL, etag, traffic) once it has settled.

        While ``reconciling`` is true, ``latest_ready_revision``,
        ``traffic_statuses`` and ``uri`` "will have transient values"
        (google/cloud/run/v2/service.proto): nothing is resolved or planned from
        them. The service is re-read every ``RECONCILE_POLL_S`` until it settles,
        the wait shown through ``on_wait``; still reconciling at the deadline is a
        :class:`~gate.errors.GateFailure` (exit 3).
        """
        watch = Stopwatch()
        state = await self._read_service()
        while state.reconciling:
            left = self.budget.deadline.remaining()
            if left <= RECONCILE_POLL_S:
                raise GateFailure(
                    f"service {state.short_name} was still reconciling (Cloud Run is rolling out "
                    f"a change) after {watch.ms() / 1000:.0f} s, at the run's deadline: wait for "
                    "`gcloud run services describe` to show it ready, then re-run, or raise "
                    "--deadline"
                )
            self.on_wait(
                f"waiting for service {state.short_name} to finish reconciling "
                f"({watch.ms() / 1000:.0f} s so far)"
            )
            await asyncio.sleep(RECONCILE_POLL_S)
            state = await self._read_service()
        return state

    async def revision(self, name: str) -> RevisionInfo:
        """Read one revision."""
        b = self.budget
        found = await b.read(
            lambda: self._revisions.get_revision(
                name=f"{self.name}/revisions/{name}", timeout=b.timeout(), retry=None
            ),
            f"read revision {name}",
            VIEWER,
        )
        return _revision(found)

    async def revisions(self) -> list[RevisionInfo]:
        """Every revision of the service, newest first (all pages)."""
        b = self.budget

        def every_page() -> list[RevisionInfo]:
            pager = self._revisions.list_revisions(
                parent=self.name, timeout=b.timeout(), retry=None
            )
            return [_revision(r) for r in pager]

        found = await b.read(every_page, f"list revisions of {self.name}", VIEWER)
        return sorted(found, key=lambda r: r.created, reverse=True)

    async def set_traffic(self, etag: str, traffic: Sequence[TrafficEntry]) -> ServiceState:
        """Replace the traffic split, guarded by ``etag``; waits for the operation.

        The operation is polled from 0.25 s on, growing to every 2 s (the library's
        default starts at 1 s and grows to 20 s, which can add many seconds to a
        rollback that is already done).
        """
        from google.api_core.future.polling import DEFAULT_POLLING
        from google.cloud import run_v2
        from google.protobuf import field_mask_pb2

        polling = DEFAULT_POLLING.with_delay(initial=0.25, maximum=2.0, multiplier=1.5)

        kinds = {v: k for k, v in _KINDS.items()}
        request = run_v2.UpdateServiceRequest(
            service=run_v2.Service(
                name=self.name,
                etag=etag,
                traffic=[
                    run_v2.TrafficTarget(
                        type_=kinds[t.kind],
                        revision=t.revision if t.kind == "REVISION" else "",
                        percent=t.percent,
                        tag=t.tag,
                    )
                    for t in traffic
                ],
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["traffic"]),
        )
        nameless = [t for t in traffic if t.kind == "REVISION" and not t.revision]
        if nameless:
            raise GateFailure(
                f"update traffic of {self.name}: refusing to write a REVISION target without a "
                "revision name (the service's LATEST could not be resolved): re-run once the "
                "service has a ready revision"
            )
        b = self.budget

        def update() -> Any:
            # Never retried: after a lost answer the retry would meet its own change as an
            # etag conflict. The operation is awaited within what is left of the budget.
            operation = self._services.update_service(
                request=request, timeout=b.timeout(), retry=None
            )
            return operation.result(timeout=b.deadline.remaining(), polling=polling)

        updated = await b.call(update, f"update traffic of {self.name}", DEVELOPER)
        return _state(updated)
