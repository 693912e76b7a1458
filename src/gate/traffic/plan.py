"""Traffic decisions: roll back, restore, promote. Pure functions of a service's state.

A :class:`Plan` carries the etag its decision was based on, so carrying it out
(:func:`gate.traffic.actions.apply`) is refused by the API rather than
overwriting a concurrent change. Every tag is kept (as a 0 % target of its
revision), so tagged URLs stay reachable after a rollback or a promotion, except
a tag a promotion is asked to remove.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gate.cloud.model import ServiceState, TrafficEntry
from gate.model import ActionBlock, ActionKind, ActionStatus, CheckSummary, TrafficBlock


@dataclass(frozen=True)
class Plan:
    """A traffic change: what serves now, what will serve, and the full new split."""

    kind: ActionKind
    source: str
    target: str
    traffic: tuple[TrafficEntry, ...]
    etag: str


def _tags(state: ServiceState, removed: str | None = None) -> list[TrafficEntry]:
    """Every tag of the service, kept as a 0% target of its revision (but ``removed``)."""
    return [
        TrafficEntry("REVISION", s.revision, 0, s.tag)
        for s in state.statuses
        if s.tag and s.tag != removed
    ]


def rollback_to(state: ServiceState, revision: str) -> Plan:
    """Send 100% of traffic to ``revision``."""
    split = (TrafficEntry("REVISION", revision, 100), *_tags(state))
    return Plan("rollback", state.serving(), revision, split, state.etag)


def restore(state: ServiceState, recorded: Sequence[TrafficBlock]) -> Plan:
    """Put back the traffic recorded by ``gate snapshot``."""
    split = tuple(TrafficEntry.from_dict(t) for t in recorded)
    target = ", ".join(f"{t.revision} ({t.percent}%)" for t in split if t.percent) or "nothing"
    return Plan("rollback", state.serving(), target, split, state.etag)


def promote(state: ServiceState, revision: str, remove_tag: str | None = None) -> Plan:
    """Give ``revision`` 100%: as LATEST when it is the latest ready one, else pinned.

    ``remove_tag`` (the per-build tag the revision was gated by) is dropped in the
    same update, so the change stays one etag-guarded write: no window in which
    the revision is promoted but still reachable by its candidate URL, or the
    reverse.
    """
    latest = revision == state.latest_ready
    first = TrafficEntry("LATEST" if latest else "REVISION", "" if latest else revision, 100)
    target = f"{revision} (LATEST)" if latest else revision
    if remove_tag is not None:
        target += f", tag {remove_tag} removed"
    split = (first, *_tags(state, remove_tag))
    return Plan("promote", state.serving(), target, split, state.etag)


def already(state: ServiceState, plan: Plan) -> bool:
    """True when the service already has exactly the planned traffic."""
    wanted = [(t.kind, t.revision, t.percent, t.tag) for t in plan.traffic]
    current = [(t.kind, t.revision, t.percent, t.tag) for t in state.traffic]
    return sorted(wanted) == sorted(current)


def action_block(
    plan: Plan | None,
    status: ActionStatus,
    reason: str = "",
    verified: bool | None = None,
    checks: Sequence[CheckSummary] = (),
) -> ActionBlock:
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
