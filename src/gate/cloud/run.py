"""Cloud Run Admin API v2: read a service and its revisions, and move traffic safely.

Traffic changes update only ``name``, ``etag`` and ``traffic`` (update mask
``traffic``) and carry the etag read before the gate's checks, so a concurrent
change is never overwritten: the API refuses, and the gate stops (exit 3).
Each call has a timeout; the long-running operation is awaited with one too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gate.cloud.errors import api_call
from gate.cloud.model import RevisionInfo, ServiceState, TrafficEntry, TrafficKind

VIEWER = "roles/run.viewer"
DEVELOPER = "roles/run.developer"
_CALL_TIMEOUT_S = 20.0
_OPERATION_TIMEOUT_S = 120.0
_KINDS: dict[int, TrafficKind] = {1: "LATEST", 2: "REVISION"}


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _entry(target: Any, uri: str = "") -> TrafficEntry:
    return TrafficEntry(
        kind=_KINDS.get(int(target.type_), "REVISION"),
        revision=target.revision,
        percent=int(target.percent),
        tag=target.tag,
        uri=uri,
    )


def _state(service: Any) -> ServiceState:
    return ServiceState(
        name=service.name,
        uri=service.uri,
        etag=service.etag,
        latest_ready=_short(service.latest_ready_revision),
        traffic=tuple(_entry(t) for t in service.traffic),
        statuses=tuple(_entry(s, s.uri) for s in service.traffic_statuses),
    )


def _ready(revision: Any) -> bool:
    from google.cloud import run_v2

    succeeded = run_v2.Condition.State.CONDITION_SUCCEEDED
    return any(c.type_ == "Ready" and c.state == succeeded for c in revision.conditions)


class CloudRun:
    """One service of one project and region."""

    def __init__(self, project: str, region: str, service: str) -> None:
        from google.cloud import run_v2

        self.parent = f"projects/{project}/locations/{region}"
        self.name = f"{self.parent}/services/{service}"
        endpoint = os.environ.get("GATE_RUN_ENDPOINT")
        with api_call("connect to the Cloud Run Admin API", VIEWER):
            if endpoint:
                import grpc
                from google.cloud.run_v2.services.revisions.transports import (
                    RevisionsGrpcTransport,
                )
                from google.cloud.run_v2.services.services.transports import (
                    ServicesGrpcTransport,
                )

                channel = grpc.insecure_channel(endpoint)
                self._services = run_v2.ServicesClient(
                    transport=ServicesGrpcTransport(channel=channel)
                )
                self._revisions = run_v2.RevisionsClient(
                    transport=RevisionsGrpcTransport(channel=channel)
                )
            else:
                self._services = run_v2.ServicesClient()
                self._revisions = run_v2.RevisionsClient()

    def service(self) -> ServiceState:
        """Read the service (URL, etag, traffic)."""
        with api_call(f"read service {self.name}", VIEWER):
            return _state(self._services.get_service(name=self.name, timeout=_CALL_TIMEOUT_S))

    def revision(self, revision: str) -> RevisionInfo:
        """Read one revision."""
        with api_call(f"read revision {revision}", VIEWER):
            found = self._revisions.get_revision(
                name=f"{self.name}/revisions/{revision}", timeout=_CALL_TIMEOUT_S
            )
            return RevisionInfo(_short(found.name), found.create_time, _ready(found))

    def revisions(self) -> list[RevisionInfo]:
        """Every revision of the service, newest first (all pages)."""
        with api_call(f"list revisions of {self.name}", VIEWER):
            pager = self._revisions.list_revisions(parent=self.name, timeout=_CALL_TIMEOUT_S)
            found = [RevisionInfo(_short(r.name), r.create_time, _ready(r)) for r in pager]
        return sorted(found, key=lambda r: r.created, reverse=True)

    def previous_ready(self, before: str) -> RevisionInfo | None:
        """The newest ready revision created before ``before``."""
        revisions = self.revisions()
        pivot: datetime | None = next((r.created for r in revisions if r.name == before), None)
        if pivot is None:
            return None
        return next((r for r in revisions if r.ready and r.created < pivot), None)

    def set_traffic(self, etag: str, traffic: Sequence[TrafficEntry]) -> ServiceState:
        """Replace the traffic split, guarded by ``etag``; waits for the operation."""
        from google.cloud import run_v2
        from google.protobuf import field_mask_pb2

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
        with api_call(f"update traffic of {self.name}", DEVELOPER):
            operation = self._services.update_service(request=request, timeout=_CALL_TIMEOUT_S)
            return _state(operation.result(timeout=_OPERATION_TIMEOUT_S))  # type: ignore[no-untyped-call]
