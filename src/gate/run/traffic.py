"""The standalone traffic commands, connected: ``gate snapshot``, ``rollback``, ``promote``.

Each connects to Cloud Run and runs the action of :mod:`gate.traffic.actions`
within the actions' budget (:data:`gate.run.verify.ACTION_TIMEOUT_S`).
"""

from __future__ import annotations

from pathlib import Path

from gate.cloud.calls import Budget
from gate.cloud.model import RunApi
from gate.model import ActionBlock
from gate.run.verify import ACTION_TIMEOUT_S
from gate.timing import Deadline
from gate.traffic import actions
from gate.traffic.snapshot import Snapshot


async def _connect(project: str, region: str, service: str) -> RunApi:
    from gate.cloud.run import CloudRun

    return await CloudRun.connect(project, region, service, Budget(Deadline(ACTION_TIMEOUT_S)))


async def snapshot(project: str, region: str, service: str, out: Path) -> Snapshot:
    """Write the service's traffic to ``out``; returns the snapshot."""
    return await actions.take_snapshot(await _connect(project, region, service), out)


async def rollback(
    project: str, region: str, service: str, to: str | None, restore: Path | None, dry_run: bool
) -> ActionBlock:
    """Roll back; returns the action block."""
    cloud = await _connect(project, region, service)
    return await actions.rollback(cloud, to, restore, dry_run)


async def promote(
    project: str, region: str, service: str, revision: str | None, tag: str | None, dry_run: bool
) -> ActionBlock:
    """Promote; returns the action block."""
    cloud = await _connect(project, region, service)
    return await actions.promote_revision(cloud, revision, tag, dry_run)
