"""Plain records of what the Cloud Run and Cloud Logging APIs returned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

TrafficKind = Literal["LATEST", "REVISION"]


@dataclass(frozen=True)
class TrafficEntry:
    """One traffic target; ``revision`` is resolved for LATEST in statuses."""

    kind: TrafficKind
    revision: str
    percent: int
    tag: str = ""
    uri: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON form, for reports and snapshots."""
        return {
            "type": self.kind,
            "revision": self.revision,
            "percent": self.percent,
            "tag": self.tag,
            "uri": self.uri,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrafficEntry:
        """Inverse of :meth:`as_dict`."""
        kind = data.get("type")
        if kind not in ("LATEST", "REVISION"):
            raise ValueError(f"unknown traffic type {kind!r}")
        return cls(
            kind=kind,
            revision=str(data.get("revision", "")),
            percent=int(data["percent"]),
            tag=str(data.get("tag", "")),
            uri=str(data.get("uri", "")),
        )


@dataclass(frozen=True)
class ServiceState:
    """A Cloud Run service as read, with its etag."""

    name: str
    uri: str
    etag: str
    latest_ready: str
    traffic: tuple[TrafficEntry, ...]
    statuses: tuple[TrafficEntry, ...]

    @property
    def short_name(self) -> str:
        """The service id without project and region."""
        return self.name.rsplit("/", 1)[-1]

    def percent_of(self, revision: str) -> int:
        """The share of traffic ``revision`` receives."""
        return sum(s.percent for s in self.statuses if s.revision == revision)

    def tag_of(self, revision: str) -> TrafficEntry | None:
        """The tagged status of ``revision``, if it has one."""
        return next((s for s in self.statuses if s.revision == revision and s.tag), None)


@dataclass(frozen=True)
class RevisionInfo:
    """A revision's name, creation time and readiness."""

    name: str
    created: datetime
    ready: bool


@dataclass(frozen=True)
class LogRecord:
    """One log entry, reduced to what grouping and the report need."""

    timestamp: datetime
    severity: str
    message: str
    trace: str
    insert_id: str
