"""``gate verify``: gate a Cloud Run revision, then roll back or promote."""

from __future__ import annotations

import os
from typing import Any

import click

from gate.cli.inputs import (
    RESOLVED_LATER,
    explicit,
    per_target,
    prepare,
    run_context,
    secret_environ,
    targets,
    webhooks,
)
from gate.cli.options import GroupedCommand, declare
from gate.cli.output import fail, finish, report_path, watched
from gate.cli.progress import progress
from gate.cli.table import OPTIONS
from gate.config.settings import build_verify_options
from gate.errors import GateError
from gate.model import Result
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
    from gate.run.supervisor import Supervisor
    from gate.run.verify import Verifier, verify_targets

    redactor, supervisor = watched(Redactor()), Supervisor()
    try:
        json_path = report_path("--report-json", options["report_json"])
        junit_path = report_path("--junit", options["junit"])
        hooks = webhooks(options, redactor)
        context = run_context(ctx, os.environ)
        options["cloud_deploy"] = bool(context.cloud_deploy)
        every = targets(ctx)
        result: Result
        if not every:
            cloud = build_verify_options(options, os.environ, explicit(ctx))
            env = secret_environ([options], supervisor, options["deadline"])
            settings, credential = prepare(ctx, {**options, "url": RESOLVED_LATER}, env)
            if cloud.progressive:
                click.echo(canary_plan(cloud), err=True)
            verifier = Verifier(settings, credential, cloud, redactor, supervisor, progress)
            result = supervisor.run(verifier.run(), cloud.time_limit(settings.deadline))
        else:
            prepared = []
            named = per_target(ctx, options, every)
            env = secret_environ([o for _n, o in named], supervisor, options["deadline"])
            for name, target_opts in named:
                cloud = build_verify_options(
                    {**target_opts, "cloud_deploy": False}, os.environ, explicit(ctx)
                )
                settings, credential = prepare(ctx, {**target_opts, "url": RESOLVED_LATER}, env)
                if cloud.progressive:
                    click.echo(f"{name}: {canary_plan(cloud)}", err=True)
                prepared.append((name, settings, credential, cloud))
            limit = max(c.time_limit(s.deadline) for _n, s, _cr, c in prepared)
            work = verify_targets(prepared, redactor, supervisor, progress)
            result = supervisor.run(work, limit)
    except GateError as error:
        fail(error, redactor)
    finish(result, json_path, junit_path, redactor, context, hooks, options["notify_on"])
