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
from gate.model import (
    ActionBlock,
    ActionKind,
    ActionStatus,
    CheckSummary,
    TrafficBlock,
    TrafficChange,
)


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


def _proportional(weights: Sequence[int], total: int) -> list[int]:
    """``total`` split in whole percents in the proportions of ``weights`` (largest remainder)."""
    whole = sum(weights)
    if whole == 0:
        return [0 for _ in weights]
    exact = [w * total / whole for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def canary_step(
    restore_point: Sequence[TrafficEntry],
    candidate: str,
    tag: str,
    percent: int,
    etag: str,
    baseline: tuple[str, str] | None = None,
) -> Plan:
    """``percent`` to the candidate, keeping its tag; the rest to what served before.

    The revisions that served at the restore point share the other ``100 -
    percent`` in their previous proportions (whole percents, largest remainder),
    keeping their tags; tag-only entries are kept as they were. Traffic is pinned
    by revision name throughout (``restore_point`` has LATEST resolved), so that
    the candidate, which is the latest revision, gets exactly its step.
    ``baseline`` (its revision and tag, ``--baseline-tag``) gets the candidate's share too,
    taken from what served before.
    """
    skipped = {candidate, *((baseline[0],) if baseline else ())}
    serving = [t for t in restore_point if t.percent > 0 and t.revision not in skipped]
    twins = 2 if baseline else 1
    shares = _proportional([t.percent for t in serving], 100 - twins * percent)
    split = [
        TrafficEntry("REVISION", t.revision, share, t.tag)
        for t, share in zip(serving, shares, strict=True)
        if share > 0 or t.tag
    ]
    tags = [
        TrafficEntry("REVISION", t.revision, 0, t.tag)
        for t in restore_point
        if t.percent == 0 and t.tag and t.tag != tag and (baseline is None or t.tag != baseline[1])
    ]
    first = TrafficEntry("REVISION", candidate, percent, tag)
    target = f"{candidate} ({percent}%)"
    if baseline is not None:
        tags.insert(0, TrafficEntry("REVISION", baseline[0], percent, baseline[1]))
        target += f", baseline {baseline[0]} ({percent}%)"
    source = ", ".join(f"{t.revision} ({t.percent}%)" for t in serving) or "nothing"
    return Plan("canary", source, target, (first, *split, *tags), etag)


def already(state: ServiceState, plan: Plan) -> bool:
    """True when the service already has exactly the planned traffic."""
    wanted = [(t.kind, t.revision, t.percent, t.tag) for t in plan.traffic]
    current = [(t.kind, t.revision, t.percent, t.tag) for t in state.traffic]
    return sorted(wanted) == sorted(current)


def change(step: str, status: ActionStatus, plan: Plan) -> TrafficChange:
    """One entry of the ``action`` block's ``changes``."""
    return {"step": step, "status": status, "traffic": [t.as_dict() for t in plan.traffic]}


def action_block(
    plan: Plan | None,
    status: ActionStatus,
    reason: str = "",
    verified: bool | None = None,
    checks: Sequence[CheckSummary] = (),
    changes: Sequence[TrafficChange] | None = None,
) -> ActionBlock:
    """The report's ``action`` block (``changes``: by default, this plan's update if made)."""
    if plan is None:
        return {"kind": "none", "from": None, "to": None, "status": status, "verified": None,
                "reason": reason, "traffic": [], "checks": [],
                "changes": list(changes or [])}  # fmt: skip
    if changes is None:
        changes = [change(plan.kind, status, plan)] if status in ("done", "dry-run") else []
    return {
        "kind": plan.kind,
        "from": plan.source,
        "to": plan.target,
        "status": status,
        "verified": verified,
        "reason": reason,
        "traffic": [t.as_dict() for t in plan.traffic],
        "checks": list(checks),
        "changes": list(changes),
    }
