"""Carrying out traffic plans, and the standalone commands ``snapshot``, ``rollback``, ``promote``.

Every change follows the same safety rules, in ``verify`` and in the commands:
read the service, plan from what was read, update with that etag (update mask
``traffic``), wait for the operation. ``dry_run`` plans and reports without any
update call. The Cloud Run client comes in as a :class:`~gate.cloud.model.RunApi`.
"""

from __future__ import annotations

from collections.abc import Sequence

from gate.cloud.model import RunApi, ServiceState, previous_ready
from gate.errors import ConfigError, GateFailure
from gate.model import ActionBlock, ActionStatus, TrafficBlock
from gate.traffic.plan import (
    Plan,
    action_block,
    already,
    promote,
    restore,
    rollback_to,
)
from gate.traffic.snapshot import Snapshot, snapshot_dict


async def apply(
    cloud: RunApi, state: ServiceState, plan: Plan, dry_run: bool
) -> tuple[ActionStatus, str, ServiceState | None]:
    """Carry out ``plan`` unless nothing would change or ``dry_run``.

    Returns the status, its reason, and the service as updated (``None`` when
    no update was made). API errors propagate as :class:`~gate.errors.GateError`.
    """
    if already(state, plan):
        return "skipped", "traffic is already so", None
    if dry_run:
        return "dry-run", "--dry-run: nothing changed", None
    return "done", "", await cloud.set_traffic(plan.etag, plan.traffic)


def _serving_revision(state: ServiceState) -> str:
    top = max(state.statuses, key=lambda s: s.percent, default=None)
    return top.revision if top is not None and top.percent else state.latest_ready


async def _report(cloud: RunApi, state: ServiceState, plan: Plan, dry_run: bool) -> ActionBlock:
    status, reason, _after = await apply(cloud, state, plan, dry_run)
    return action_block(plan, status, reason)


async def take_snapshot(cloud: RunApi) -> Snapshot:
    """The service's current traffic, as ``gate snapshot`` writes it."""
    return snapshot_dict(await cloud.service())


async def rollback(
    cloud: RunApi, to: str | None, recorded: Sequence[TrafficBlock] | None, dry_run: bool
) -> ActionBlock:
    """Roll back to ``to``, to a snapshot's traffic, or to the ready one before the serving one."""
    state = await cloud.service()
    if recorded is not None:
        plan = restore(state, recorded)
    else:
        if to is None:
            current = _serving_revision(state)
            previous = previous_ready(await cloud.revisions(), current)
            if previous is None:
                raise GateFailure(f"no ready revision older than {current} to roll back to")
            to = previous.name
        elif not (await cloud.revision(to)).ready:
            raise ConfigError(f"--to {to}: that revision is not ready")
        plan = rollback_to(state, to)
    return await _report(cloud, state, plan, dry_run)


def revision_of_tag(state: ServiceState, tag: str) -> str:
    """The revision carrying ``tag``; a configuration error naming the fix when none does."""
    status = state.tagged(tag)
    if status is None:
        raise ConfigError(
            f"--tag {tag}: service {state.short_name} has no traffic target with that tag: "
            f"deploy with `gcloud run deploy --no-traffic --tag {tag}`"
        )
    return status.revision


async def promote_revision(
    cloud: RunApi, revision: str | None, tag: str | None, dry_run: bool, remove_tag: bool = False
) -> ActionBlock:
    """Give ``revision`` (or the revision tagged ``tag``, or the latest ready) 100%.

    With ``remove_tag``, ``tag`` is removed in the same update.
    """
    if revision is not None and tag is not None:
        raise ConfigError("--revision and --tag both given: choose one")
    if remove_tag and tag is None:
        raise ConfigError("--remove-tag needs --tag: the tag to remove")
    state = await cloud.service()
    if tag is not None:
        revision = revision_of_tag(state, tag)
    revision = revision or state.latest_ready
    if not (await cloud.revision(revision)).ready:
        raise ConfigError(f"revision {revision} is not ready: it cannot take traffic")
    plan = promote(state, revision, tag if remove_tag else None)
    return await _report(cloud, state, plan, dry_run)
