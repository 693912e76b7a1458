"""`gate snapshot`, `gate rollback`, `gate promote`: traffic changes by hand or in a pipeline."""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import click

from gate.cli.options import declare
from gate.cli.output import fail
from gate.cli.table import OPTIONS
from gate.errors import GateError
from gate.model import ActionBlock


def _act(work: Coroutine[Any, Any, ActionBlock]) -> None:
    """Run one action and print its line."""
    from gate.report.text import action_line
    from gate.run.loop import run

    try:
        action = run(work)
    except GateError as error:
        fail(error)
    click.echo(action_line(action))


@click.command()
@declare("snapshot", OPTIONS)
def snapshot(project: str, region: str, service: str, out: str) -> None:
    """Record the service's traffic before a deploy, for `--restore` later."""
    from gate.run import traffic
    from gate.run.loop import run

    try:
        data = run(traffic.snapshot(project, region, service, Path(out)))
    except GateError as error:
        fail(error)
    shares = ", ".join(f"{t['revision']} ({t['percent']}%)" for t in data["traffic"])
    click.echo(f"snapshot of {service}: {shares} -> {out}")


@click.command()
@declare("rollback", OPTIONS)
def rollback(
    project: str, region: str, service: str, to: str | None, restore: str | None, dry_run: bool
) -> None:
    """Send traffic back: to --to, to a snapshot, or to the previous ready revision."""
    from gate.run import traffic

    path = Path(restore) if restore else None
    _act(traffic.rollback(project, region, service, to, path, dry_run))


@click.command()
@declare("promote", OPTIONS)
def promote(
    project: str, region: str, service: str, revision: str | None, tag: str | None, dry_run: bool
) -> None:
    """Give a revision 100% of traffic (as LATEST when it is the latest ready revision)."""
    from gate.run import traffic

    _act(traffic.promote(project, region, service, revision, tag, dry_run))
