"""From what click parsed to validated settings: the base options, ``[[targets]]``, webhooks.

The merging rules live in :mod:`gate.config.targets`; this module supplies
what only click knows: which options the user set, and how to convert a
target's raw value with the option's own click type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NoReturn

import click

from gate.config.inputs import Inputs
from gate.config.settings import Settings, build_settings
from gate.config.targets import Target, parse_targets, target_options
from gate.config.usermetrics import parse_user_metrics
from gate.config.webhooks import Webhook, parse_webhooks, secrets_of
from gate.errors import ConfigError, GateError
from gate.model import RunContext, UserMetric
from gate.redact import Redactor

if TYPE_CHECKING:
    from gate.run.execute import Prepared

_SET_BY_USER = (
    click.core.ParameterSource.COMMANDLINE,
    click.core.ParameterSource.ENVIRONMENT,
    click.core.ParameterSource.DEFAULT_MAP,
)

RESOLVED_LATER = "https://resolved.invalid"
"""``verify`` takes the URL from the service; a placeholder lets every other option be
validated before the first API call."""


def _config(ctx: click.Context) -> Mapping[str, object]:
    config: Mapping[str, object] = ctx.meta.get("gate.config", {})
    return config


def explicit(ctx: click.Context) -> frozenset[str]:
    """Options the user set: on the command line, in the environment or in the config file."""
    return frozenset(name for name in ctx.params if ctx.get_parameter_source(name) in _SET_BY_USER)


def targets(ctx: click.Context) -> list[Target]:
    """The validated ``[[targets]]`` of the config file, if any."""
    from gate.cli.options import known_options
    from gate.cli.table import OPTIONS

    raw = _config(ctx).get("targets")
    return parse_targets(raw, known_options(OPTIONS)) if raw is not None else []


def per_target(ctx: click.Context, base: Inputs, every: list[Target]) -> list[tuple[str, Inputs]]:
    """Each target's options: its table over the base, command-line flags kept."""
    params = {p.name: p for p in ctx.command.params if p.name}

    def on_command_line(name: str) -> bool:
        return ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE

    def convert(name: str, value: object) -> object:
        param = params.get(name)
        if param is None:
            return value
        if param.multiple and isinstance(value, str):
            value = [value]  # a string for a repeatable option: a list of one, as in gate.toml
        try:
            return param.type_cast_value(ctx, value)
        except click.BadParameter as exc:
            raise ConfigError(f"gate.toml: targets: {name} = {value!r}: {exc.message}") from None

    return [(t.name, target_options(base, t, on_command_line, convert)) for t in every]


def settings_of(ctx: click.Context, options: Inputs) -> Settings:
    """One target's validated settings (its credential is resolved in the run, once Secret
    Manager references are read)."""
    return build_settings(options, explicit(ctx), _config(ctx).get("scenario"))


def user_metrics_of(ctx: click.Context) -> tuple[UserMetric, ...]:
    """The validated ``[[canary_metrics]]`` of the config file (exit 2 on a mistake)."""
    return parse_user_metrics(_config(ctx).get("canary_metrics"))


def named_targets(ctx: click.Context, options: Inputs) -> tuple[list[tuple[str, Inputs]], bool]:
    """Every target's options, and whether they come from ``[[targets]]``: a single target
    is a list of one, named ``""``."""
    every = targets(ctx)
    if not every:
        return [("", options)], False
    return per_target(ctx, options, every), True


CLOUD_DEPLOY_PREFIX = "CLOUD_DEPLOY_"


def run_context(ctx: click.Context, env: Mapping[str, str]) -> RunContext:
    """The config file read, and the Cloud Deploy job's variables, for the report."""
    deploy = {
        name[len(CLOUD_DEPLOY_PREFIX) :].lower(): value
        for name, value in sorted(env.items())
        if name.startswith(CLOUD_DEPLOY_PREFIX) and value
    }
    return RunContext(config=ctx.meta.get("gate.config_path"), cloud_deploy=deploy)


def webhooks(options: Inputs, redactor: Redactor) -> tuple[Webhook, ...]:
    """The ``--notify`` webhooks, validated, their credentials registered as secrets."""
    hooks = parse_webhooks(options.notify)
    for hook in hooks:
        redactor.add(*secrets_of(hook))
    return hooks


def run_and_finish(
    prepared: list[Prepared],
    many: bool,
    given: Inputs,
    context: RunContext,
    env: Mapping[str, str],
    redactor: Redactor,
) -> NoReturn:
    """Run the job of ``prepared`` targets (:func:`gate.run.execute.execute`), then render
    every report and exit with the verdict; bad input, a signal before the checks, or a
    failure with nothing to report end the command with their one line."""
    from gate.cli.output import Reports, fail, finish, report_path, stopped
    from gate.cli.progress import progress
    from gate.config.endpoints import Endpoints
    from gate.report.text import hold_plan
    from gate.run.execute import Job, execute
    from gate.run.supervisor import Interrupted

    for target in prepared:
        s = target.settings
        if s.hold:
            plan = hold_plan(s.hold, s.hold_interval, s.deadline)
            click.echo(f"{target.name}: {plan}" if many else plan, err=True)
    try:
        reports = Reports(
            report_path("--report-json", given.report_json),
            report_path("--junit", given.junit),
            report_path("--report-html", given.report_html),
        )
        hooks = webhooks(given, redactor)
        job = Job(
            tuple(prepared), env, many, hooks, given.notify_on, context, Endpoints.from_env(env)
        )
        result = execute(job, redactor, progress)
    except Interrupted as stop:
        stopped(stop.name, f"while {stop.during}; nothing was run")
    except GateError as error:
        fail(error, redactor)
    finish(result, reports, redactor)
