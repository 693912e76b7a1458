"""Snapshots of a service's traffic (``gate snapshot``), and reading one back for ``--restore``.

A snapshot records the traffic with ``LATEST`` resolved to the revision it
meant at the time: restoring "LATEST" after a bad deploy would send traffic to
the bad revision.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

from gate.cloud.model import ServiceState, TrafficEntry
from gate.errors import ConfigError
from gate.model import TrafficBlock, utc_text

SNAPSHOT_SCHEMA = "gate.snapshot/v1"


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


def load_snapshot(path: Path, service_name: str) -> tuple[TrafficEntry, ...]:
    """The traffic recorded by ``gate snapshot`` for this service, read and validated."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--restore {path}: cannot read it ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"--restore {path}: not JSON ({exc.msg}): use a `gate snapshot` file"
        ) from None
    if not isinstance(data, dict) or data.get("schema") != SNAPSHOT_SCHEMA:
        raise ConfigError(
            f"--restore {path}: not a {SNAPSHOT_SCHEMA} file: write one with `gate snapshot`"
        )
    if data.get("service") != service_name:
        raise ConfigError(
            f"--restore {path}: the snapshot is of {data.get('service')}, not {service_name}"
        )
    traffic = data.get("traffic")
    try:
        if not isinstance(traffic, list):
            raise ValueError("traffic must be a list of targets")
        split = tuple(TrafficEntry.from_dict(t) for t in traffic)
    except ValueError as exc:
        raise ConfigError(f"--restore {path}: malformed traffic ({exc})") from None
    if sum(t.percent for t in split) != 100:
        raise ConfigError(f"--restore {path}: the traffic percents do not add up to 100")
    return split
