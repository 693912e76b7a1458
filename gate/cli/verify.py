"""``gate verify``: gate a Cloud Run revision, then roll back or promote."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import click

from gate.cli.inputs import (
    RESOLVED_LATER,
    explicit,
    named_targets,
    run_and_finish,
    run_context,
    settings_of,
    user_metrics_of,
)
from gate.cli.options import GroupedCommand, declare
from gate.cli.output import fail, watched
from gate.cli.table import OPTIONS
from gate.config.settings import build_verify_options
from gate.errors import GateError
from gate.redact import Redactor
from gate.report.text import canary_plan

EXAMPLES = """
# gate a revision deployed with --no-traffic --tag candidate, promote it, drop the tag
gate verify --project P --region R --service S --tag candidate --promote --remove-tag
# gate the revision deployed with traffic; roll back to a snapshot when it fails
gate verify --project P --region R --service S --on-failure rollback --restore before.json
# in a Cloud Deploy verify job: project, region, service and revision come from CLOUD_RUN_*
gate verify --subprotocol chat.v1 --notify "$SLACK_WEBHOOK"
"""


@click.command(
    cls=GroupedCommand,
    epilog=EXAMPLES,
    short_help="Gate a Cloud Run revision (probes and its Cloud Logging errors), then roll back "
    "or promote.",
)
@declare("verify", OPTIONS)
@click.pass_context
def verify(ctx: click.Context, /, **options: Any) -> None:
    """Gate a Cloud Run revision: checks, Cloud Logging errors, then rollback or promotion.

    Exit codes: 0 pass, 1 the release failed (even after a rollback), 2 usage or
    configuration error, 3 the gate could not complete its own work, 130/143
    interrupted by a signal.
    """
    from gate.config.inputs import inputs_from
    from gate.run.execute import Prepared

    redactor = watched(Redactor())
    env = dict(os.environ)
    try:
        context = run_context(ctx, env)
        given = inputs_from({**options, "cloud_deploy": bool(context.cloud_deploy)})
        named, many = named_targets(ctx, given)
        prepared = []
        for name, target in named:
            # In [[targets]], Cloud Deploy's variables name no target: they are not read.
            mine = replace(target, cloud_deploy=target.cloud_deploy and not many)
            cloud = build_verify_options(mine, env, explicit(ctx))
            cloud = replace(cloud, user_metrics=user_metrics_of(ctx))
            settings = settings_of(ctx, replace(mine, url=RESOLVED_LATER))
            if cloud.progressive:
                plan = canary_plan(cloud)
                click.echo(f"{name}: {plan}" if many else plan, err=True)
            prepared.append(Prepared(name, settings, cloud))
    except GateError as error:
        fail(error, redactor)
    run_and_finish(prepared, many, given, context, env, redactor)
