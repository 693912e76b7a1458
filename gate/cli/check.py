"""``gate check URL``: probe a deployed service and name the exact failure."""

from __future__ import annotations

import os
from typing import Any

import click

from gate.cli.inputs import named_targets, run_and_finish, run_context, settings_of
from gate.cli.options import GroupedCommand, declare
from gate.cli.output import fail, watched
from gate.cli.table import OPTIONS
from gate.errors import ConfigError, GateError
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
    from gate.config.inputs import inputs_from
    from gate.run.execute import Prepared

    redactor = watched(Redactor())
    try:
        given = inputs_from({"url": url, **options})
        named, many = named_targets(ctx, given)
        if many and url is not None:
            raise ConfigError("a URL and [[targets]] both given: use one or the other")
        prepared = []
        for name, target in named:
            if target.url is None:
                raise ConfigError(
                    f"gate.toml: target {name!r} has no url"
                    if many
                    else "give the service URL, or [[targets]] in gate.toml"
                )
            prepared.append(Prepared(name, settings_of(ctx, target)))
    except GateError as error:
        fail(error, redactor)
    env = dict(os.environ)
    run_and_finish(prepared, many, given, run_context(ctx, env), env, redactor)
