"""The standalone traffic commands: ``gate snapshot``, ``gate rollback``, ``gate promote``.

They follow the same safety rules as ``gate verify``: read the service, plan
from what was read, update with that etag (update mask ``traffic``), wait for
the operation. ``dry_run`` plans and reports without any update call.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gate.cloud.model import ServiceState
from gate.errors import ConfigError, GateFailure
from gate.traffic import (
    Plan,
    action_block,
    apply,
    load_snapshot,
    promote,
    restore,
    rollback_to,
    snapshot_dict,
)


def _cloud(project: str, region: str, service: str) -> Any:
    from gate.cloud.run import CloudRun

    return CloudRun(project, region, service)


def _serving_revision(state: ServiceState) -> str:
    top = max(state.statuses, key=lambda s: s.percent, default=None)
    return top.revision if top is not None and top.percent else state.latest_ready


def _apply(cloud: Any, state: ServiceState, plan: Plan, dry_run: bool) -> dict[str, Any]:
    status, reason, _after = apply(cloud, state, plan, dry_run)
    return action_block(plan, status, reason)


def take_snapshot(project: str, region: str, service: str, out: Path) -> dict[str, Any]:
    """Write the service's current traffic to ``out``."""
    data = snapshot_dict(_cloud(project, region, service).service())
    try:
        out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write it ({exc.strerror})") from None
    return data


def rollback(
    project: str,
    region: str,
    service: str,
    to: str | None,
    restore_from: Path | None,
    dry_run: bool,
) -> dict[str, Any]:
    """Roll back to ``to``, to a snapshot, or to the ready revision before the serving one."""
    if to is not None and restore_from is not None:
        raise ConfigError("--to and --restore both given: choose one")
    cloud = _cloud(project, region, service)
    state = cloud.service()
    if restore_from is not None:
        plan = restore(state, load_snapshot(restore_from, state.name))
    else:
        if to is None:
            current = _serving_revision(state)
            previous = cloud.previous_ready(current)
            if previous is None:
                raise GateFailure(f"no ready revision older than {current} to roll back to")
            to = previous.name
        elif not cloud.revision(to).ready:
            raise ConfigError(f"--to {to}: that revision is not ready")
        plan = rollback_to(state, to)
    return _apply(cloud, state, plan, dry_run)


def promote_revision(
    project: str, region: str, service: str, revision: str | None, tag: str | None, dry_run: bool
) -> dict[str, Any]:
    """Give ``revision`` (or the revision tagged ``tag``, or the latest ready) 100%."""
    if revision is not None and tag is not None:
        raise ConfigError("--revision and --tag both given: choose one")
    cloud = _cloud(project, region, service)
    state = cloud.service()
    if tag is not None:
        status = next((s for s in state.statuses if s.tag == tag), None)
        if status is None:
            raise ConfigError(f"--tag {tag}: no traffic target of {state.short_name} has it")
        revision = status.revision
    revision = revision or state.latest_ready
    if not cloud.revision(revision).ready:
        raise ConfigError(f"revision {revision} is not ready: it cannot take traffic")
    return _apply(cloud, state, promote(state, revision), dry_run)
