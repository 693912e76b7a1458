"""`gate snapshot`, `gate rollback`, `gate promote`: traffic changes by hand or in a pipeline."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gate.cli.options import GroupedCommand, declare
from gate.cli.output import fail, stopped, write
from gate.cli.progress import progress, progress_done
from gate.cli.table import OPTIONS
from gate.config.settings import service_path
from gate.config.snapshot import load_snapshot
from gate.errors import ConfigError, GateError
from gate.model import ActionBlock
from gate.redact import Redactor

if TYPE_CHECKING:
    from gate.run.supervisor import Supervisor


def _act(work: Coroutine[Any, Any, ActionBlock], limit_s: float, supervisor: Supervisor) -> None:
    """Run one action under ``supervisor`` and print its line."""
    from gate.report.text import action_line
    from gate.run.supervisor import Interrupted

    try:
        action = supervisor.run(work, limit_s)
        progress_done()
    except Interrupted as stop:
        stopped(stop.name, f"during {stop.during}: traffic was left as it is")
    except GateError as error:
        fail(error)
    click.echo(action_line(action))
    if supervisor.signum is not None:  # it came during the update, which was finished first
        name = signal.Signals(supervisor.signum).name
        stopped(name, f"during the {action['kind']}, which was finished first ({action['status']})")


def _run_endpoint() -> str | None:
    """The Cloud Run Admin API's emulator endpoint, read from the environment here, once."""
    from gate.config.endpoints import Endpoints

    return Endpoints.from_env(os.environ).run


@click.command(
    cls=GroupedCommand,
    epilog="gate snapshot --project P --region R --service S --out traffic-before.json",
    short_help="Record a service's traffic split (LATEST resolved) for a later --restore.",
)
@declare("snapshot", OPTIONS)
def snapshot(project: str, region: str, service: str, out: str, action_timeout: float) -> None:
    """Record the service's traffic before a deploy, for `--restore` later."""
    from gate.run import traffic
    from gate.run.supervisor import Interrupted, Supervisor

    supervisor = Supervisor(action_timeout)
    try:
        work = traffic.snapshot(project, region, service, supervisor, _run_endpoint(), progress)
        data = supervisor.run(work, action_timeout)
        progress_done()
    except Interrupted as stop:
        stopped(stop.name, "no snapshot was written")
    except GateError as error:
        fail(error)
    write(Path(out), json.dumps(data, indent=2) + "\n", "--out", Redactor())
    shares = ", ".join(f"{t['revision']} ({t['percent']}%)" for t in data["traffic"])
    click.echo(f"snapshot of {service}: {shares} -> {out}")


@click.command(
    cls=GroupedCommand,
    epilog="gate rollback --project P --region R --service S --restore traffic-before.json\n"
    "gate rollback --to svc-00041-abc --dry-run   # with GATE_PROJECT/REGION/SERVICE set",
    short_help="Send traffic back: to a revision, to a snapshot, or to the previous ready one.",
)
@declare("rollback", OPTIONS)
def rollback(
    project: str,
    region: str,
    service: str,
    to: str | None,
    restore: str | None,
    dry_run: bool,
    action_timeout: float,
) -> None:
    """Send traffic back: to --to, to a snapshot, or to the previous ready revision."""
    from gate.run import traffic
    from gate.run.supervisor import Supervisor

    try:
        if to is not None and restore is not None:
            raise ConfigError("--to and --restore both given: choose one")
        name = service_path(project, region, service)
        recorded = load_snapshot(Path(restore), name) if restore else None
    except GateError as error:
        fail(error)
    supervisor = Supervisor(action_timeout)
    work = traffic.rollback(
        project, region, service, to, recorded, dry_run, supervisor, _run_endpoint(), progress
    )
    _act(work, action_timeout, supervisor)


@click.command(
    cls=GroupedCommand,
    epilog="gate promote --project P --region R --service S --tag candidate --remove-tag",
    short_help="Give a revision 100% of traffic, optionally removing the tag it was gated by.",
)
@declare("promote", OPTIONS)
def promote(
    project: str,
    region: str,
    service: str,
    revision: str | None,
    tag: str | None,
    remove_tag: bool,
    dry_run: bool,
    action_timeout: float,
) -> None:
    """Give a revision 100% of traffic (as LATEST when it is the latest ready revision)."""
    from gate.run import traffic
    from gate.run.supervisor import Supervisor

    supervisor = Supervisor(action_timeout)
    work = traffic.promote(
        project, region, service, revision, tag, dry_run, supervisor, _run_endpoint(), remove_tag,
        progress,
    )  # fmt: skip
    _act(work, action_timeout, supervisor)
