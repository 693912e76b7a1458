"""The standalone traffic commands, connected: ``gate snapshot``, ``rollback``, ``promote``.

Each connects to Cloud Run and runs the action of :mod:`gate.traffic.actions`
within the supervisor's deadline, which for these commands is ``--action-timeout``.
A rollback or a promotion runs as one action of the supervisor: a signal that
comes while it runs waits for it to finish.
"""

from __future__ import annotations

from collections.abc import Sequence

from gate.cloud.calls import Budget
from gate.cloud.model import RunApi
from gate.model import ActionBlock, TrafficBlock
from gate.run.supervisor import Supervisor
from gate.status import Progress, quiet
from gate.traffic import actions
from gate.traffic.snapshot import Snapshot


async def _connect(
    project: str,
    region: str,
    service: str,
    supervisor: Supervisor,
    endpoint: str | None,
    progress: Progress,
) -> RunApi:
    from gate.cloud.run import CloudRun

    budget = Budget(supervisor.deadline)
    cloud = await supervisor.phase(
        "connecting to Cloud Run", CloudRun.connect(project, region, service, budget, endpoint)
    )
    cloud.on_wait = progress  # a reconciling service is waited for, the wait shown
    return cloud


async def snapshot(
    project: str,
    region: str,
    service: str,
    supervisor: Supervisor,
    endpoint: str | None,
    progress: Progress = quiet,
) -> Snapshot:
    """The service's traffic, as ``gate snapshot`` writes it."""
    cloud = await _connect(project, region, service, supervisor, endpoint, progress)
    return await supervisor.phase("reading the service", actions.take_snapshot(cloud))


async def rollback(
    project: str,
    region: str,
    service: str,
    to: str | None,
    recorded: Sequence[TrafficBlock] | None,
    dry_run: bool,
    supervisor: Supervisor,
    endpoint: str | None,
    progress: Progress = quiet,
) -> ActionBlock:
    """Roll back; returns the action block."""
    cloud = await _connect(project, region, service, supervisor, endpoint, progress)
    return await supervisor.action(
        "the rollback", lambda: actions.rollback(cloud, to, recorded, dry_run)
    )


async def promote(
    project: str,
    region: str,
    service: str,
    revision: str | None,
    tag: str | None,
    dry_run: bool,
    supervisor: Supervisor,
    endpoint: str | None,
    remove_tag: bool = False,
    progress: Progress = quiet,
) -> ActionBlock:
    """Promote (removing ``tag`` when asked); returns the action block."""
    cloud = await _connect(project, region, service, supervisor, endpoint, progress)
    return await supervisor.action(
        "the promotion",
        lambda: actions.promote_revision(cloud, revision, tag, dry_run, remove_tag),
    )
