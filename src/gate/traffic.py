"""Traffic decisions and actions: roll back, promote, snapshot and restore.

Decisions are pure functions of a :class:`~gate.cloud.model.ServiceState`;
:func:`apply` carries one out through :class:`~gate.cloud.run.CloudRun` with the
etag the decision was based on, so a concurrent change is refused by the API
rather than overwritten. Tag-only targets (0 %) are kept, so tagged URLs stay
reachable after a rollback or a promotion.

A snapshot records the traffic with ``LATEST`` resolved to the revision it
meant at the time: restoring "LATEST" after a bad deploy would send traffic to
the bad revision.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from gate.cloud.model import ServiceState, TrafficEntry
from gate.errors import ConfigError

SNAPSHOT_SCHEMA = "gate.snapshot/v1"
ActionKind = Literal["none", "rollback", "promote"]
ActionStatus = Literal["done", "failed", "dry-run", "skipped"]


@dataclass(frozen=True)
class Plan:
    """A traffic change: what serves now, what will serve, and the full new split."""

    kind: ActionKind
    source: str
    target: str
    traffic: tuple[TrafficEntry, ...]
    etag: str


def serving(state: ServiceState) -> str:
    """The revisions receiving traffic, as ``rev (100%)`` text."""
    shares = [f"{s.revision} ({s.percent}%)" for s in state.statuses if s.percent > 0]
    return ", ".join(shares) or "nothing"


def _tags(state: ServiceState) -> list[TrafficEntry]:
    return [
        TrafficEntry("REVISION", s.revision, 0, s.tag)
        for s in state.statuses
        if s.tag and s.percent == 0
    ]


def rollback_to(state: ServiceState, revision: str) -> Plan:
    """Send 100% of traffic to ``revision``."""
    split = (TrafficEntry("REVISION", revision, 100), *_tags(state))
    return Plan("rollback", serving(state), revision, split, state.etag)


def restore(state: ServiceState, snapshot: dict[str, Any]) -> Plan:
    """Put back the traffic recorded by ``gate snapshot``."""
    split = tuple(TrafficEntry.from_dict(t) for t in snapshot["traffic"])
    target = ", ".join(f"{t.revision} ({t.percent}%)" for t in split if t.percent) or "nothing"
    return Plan("rollback", serving(state), target, split, state.etag)


def promote(state: ServiceState, revision: str) -> Plan:
    """Give ``revision`` 100%: as LATEST when it is the latest ready one, else pinned."""
    latest = revision == state.latest_ready
    first = TrafficEntry("LATEST" if latest else "REVISION", "" if latest else revision, 100)
    target = f"{revision} (LATEST)" if latest else revision
    return Plan("promote", serving(state), target, (first, *_tags(state)), state.etag)


def already(state: ServiceState, plan: Plan) -> bool:
    """True when the service already has exactly the planned traffic."""
    wanted = [(t.kind, t.revision, t.percent, t.tag) for t in plan.traffic]
    current = [(t.kind, t.revision, t.percent, t.tag) for t in state.traffic]
    return sorted(wanted) == sorted(current)


def apply(
    cloud: Any, state: ServiceState, plan: Plan, dry_run: bool
) -> tuple[ActionStatus, str, ServiceState | None]:
    """Carry out ``plan`` unless nothing would change or ``dry_run``.

    Returns the status, its reason, and the service as updated (``None`` when
    no update was made). API errors propagate as :class:`~gate.errors.GateError`.
    """
    if already(state, plan):
        return "skipped", "traffic is already so", None
    if dry_run:
        return "dry-run", "--dry-run: nothing changed", None
    return "done", "", cloud.set_traffic(plan.etag, plan.traffic)


def action_block(
    plan: Plan | None,
    status: ActionStatus,
    reason: str = "",
    verified: bool | None = None,
    checks: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The report's ``action`` block."""
    if plan is None:
        return {"kind": "none", "from": None, "to": None, "status": status, "verified": None,
                "reason": reason, "traffic": [], "checks": []}  # fmt: skip
    return {
        "kind": plan.kind,
        "from": plan.source,
        "to": plan.target,
        "status": status,
        "verified": verified,
        "reason": reason,
        "traffic": [t.as_dict() for t in plan.traffic],
        "checks": list(checks),
    }


def snapshot_dict(state: ServiceState) -> dict[str, Any]:
    """The snapshot of a service's traffic, LATEST resolved."""
    traffic = [
        TrafficEntry("REVISION", s.revision, s.percent, s.tag).as_dict() for s in state.statuses
    ]
    return {
        "schema": SNAPSHOT_SCHEMA,
        "service": state.name,
        "etag": state.etag,
        "latest_ready_revision": state.latest_ready,
        "taken_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "traffic": traffic,
    }


def load_snapshot(path: Path, service_name: str) -> dict[str, Any]:
    """Read and validate a snapshot written by ``gate snapshot`` for this service."""
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
    try:
        split = [TrafficEntry.from_dict(t) for t in data["traffic"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"--restore {path}: malformed traffic ({exc})") from None
    if sum(t.percent for t in split) != 100:
        raise ConfigError(f"--restore {path}: the traffic percents do not add up to 100")
    return data
