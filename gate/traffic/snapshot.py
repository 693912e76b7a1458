"""Snapshots of a service's traffic (``gate snapshot``); :mod:`gate.config.snapshot` reads them.

A snapshot records the traffic with ``LATEST`` resolved to the revision it
meant at the time: restoring "LATEST" after a bad deploy would send traffic to
the bad revision.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict

from gate.cloud.model import ServiceState, TrafficEntry
from gate.model import SNAPSHOT_SCHEMA, TrafficBlock, utc_text


class Snapshot(TypedDict):
    """A ``gate snapshot`` file."""

    schema: str
    service: str
    etag: str
    latest_ready_revision: str
    taken_at: str
    traffic: list[TrafficBlock]


def snapshot_dict(state: ServiceState) -> Snapshot:
    """The snapshot of a service's traffic, LATEST resolved."""
    traffic = [
        TrafficEntry("REVISION", s.revision, s.percent, s.tag).as_dict() for s in state.statuses
    ]
    return {
        "schema": SNAPSHOT_SCHEMA,
        "service": state.name,
        "etag": state.etag,
        "latest_ready_revision": state.latest_ready,
        "taken_at": utc_text(datetime.now(UTC)),
        "traffic": traffic,
    }
