"""``gate check URL``: probe a deployed service and name the exact failure."""

from __future__ import annotations

import os
from typing import Any

import click

from gate.cli.inputs import (
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
from gate.errors import ConfigError, GateError
from gate.model import Result
from gate.redact import Redactor

EXAMPLES = """
# a public service, minting HS256 tokens from $GATE_JWT_SECRET
gate check https://chat.example.com --subprotocol chat.v1 --expect '{"type": "pong"}'
# a ready token, two health paths, a JSON report for the pipeline
GATE_TOKEN=... gate check https://chat.example.com --health-path /health \\
    --health-path /api/health --report-json gate-report.json
# every [[targets]] of gate.toml, with 50 concurrent sockets each
gate check --config gate.toml --connections 50
"""


@click.command(
    cls=GroupedCommand,
    epilog=EXAMPLES,
    short_help="Probe a URL: health, WebSocket upgrade, JWT subprotocol, first message, auth.",
)
@declare("check", OPTIONS)
@click.pass_context
def check(ctx: click.Context, /, url: str | None, **options: Any) -> None:
    """Probe the service at URL and name the exact failure.

    Exit codes: 0 pass, 1 a check failed, 2 usage or configuration error,
    3 the gate could not complete its own work, 130/143 interrupted by a signal.
    """
    from gate.run.check import check_one, check_targets
    from gate.run.supervisor import Supervisor

    redactor, supervisor = watched(Redactor()), Supervisor()
    try:
        json_path = report_path("--report-json", options["report_json"])
        junit_path = report_path("--junit", options["junit"])
        hooks = webhooks(options, redactor)
        every = targets(ctx)
        result: Result
        if every and url is not None:
            raise ConfigError("a URL and [[targets]] both given: use one or the other")
        if not every:
            if url is None:
                raise ConfigError("give the service URL, or [[targets]] in gate.toml")
            env = secret_environ([options], supervisor, options["deadline"])
            settings, credential = prepare(ctx, {**options, "url": url}, env)
            progress(f"checking {settings.url} (deadline {settings.deadline:g} s)")
            work = check_one(settings, credential, redactor, supervisor)
            result = supervisor.run(work, settings.deadline)
        else:
            prepared = []
            named = per_target(ctx, {"url": url, **options}, every)
            env = secret_environ([o for _n, o in named], supervisor, options["deadline"])
            for name, target_opts in named:
                if target_opts.get("url") is None:
                    raise ConfigError(f"gate.toml: target {name!r} has no url")
                prepared.append((name, *prepare(ctx, target_opts, env)))
            progress(f"checking {len(prepared)} targets")
            limit = max(settings.deadline for _name, settings, _credential in prepared)
            result = supervisor.run(check_targets(prepared, redactor, supervisor), limit)
    except GateError as error:
        fail(error, redactor)
    context = run_context(ctx, os.environ)
    finish(result, json_path, junit_path, redactor, context, hooks, options["notify_on"])
