"""From what click parsed to validated settings: the base options, ``[[targets]]``, credentials.

The merging rules live in :mod:`gate.config.targets`; this module supplies
what only click knows: which options the user set, and how to convert a
target's raw value with the option's own click type.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import click

from gate.config.settings import Options, Settings, build_settings
from gate.config.targets import Target, parse_targets, target_options
from gate.config.tokens import Credential, load_credential
from gate.config.webhooks import Webhook, parse_webhooks, secrets_of
from gate.errors import ConfigError
from gate.model import RunContext
from gate.redact import Redactor

if TYPE_CHECKING:
    from gate.run.supervisor import Supervisor

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


def per_target(
    ctx: click.Context, base: Options, every: list[Target]
) -> list[tuple[str, dict[str, Any]]]:
    """Each target's options: its table over the base, command-line flags kept."""
    params = {p.name: p for p in ctx.command.params if p.name}

    def on_command_line(name: str) -> bool:
        return ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE

    def convert(name: str, value: object) -> object:
        param = params.get(name)
        if param is None:
            return value
        try:
            return param.type_cast_value(ctx, value)
        except click.BadParameter as exc:
            raise ConfigError(f"gate.toml: targets: {name} = {value!r}: {exc.message}") from None

    return [(t.name, target_options(dict(base), t, on_command_line, convert)) for t in every]


def prepare(
    ctx: click.Context, options: Options, env: Mapping[str, str] | None = None
) -> tuple[Settings, Credential | None]:
    """Validated settings and the credential they name, for one target."""
    settings = build_settings(options, explicit(ctx), _config(ctx).get("scenario"))
    return settings, load_credential(settings.token, env)


def secret_environ(
    every: Iterable[Options], supervisor: Supervisor, deadline_s: float
) -> Mapping[str, str]:
    """The environment, with each ``sm://`` reference in a secret's variable read.

    The variables are those the targets read a token or a signing secret from;
    a reference is fetched from Secret Manager (:mod:`gate.cloud.secrets`)
    within ``deadline_s``, once however many targets name it.
    """
    from gate.cloud.calls import Budget
    from gate.cloud.secrets import fetch, reference
    from gate.run.supervisor import Interrupted
    from gate.timing import Deadline

    env = dict(os.environ)
    wanted: dict[str, str] = {}
    for options in every:
        for variable in (options.get("token_env"), options.get("jwt_secret_env")):
            found = reference(env.get(str(variable), "")) if variable else None
            if found is not None:
                wanted[str(variable)] = found
    if not wanted:
        return env
    budget = Budget(Deadline(deadline_s))
    try:
        values = supervisor.run(fetch(sorted(set(wanted.values())), budget), deadline_s)
    except Interrupted as stop:
        from gate.cli.output import stopped

        stopped(stop.name, "while reading secrets from Secret Manager; nothing was run")
    env.update({variable: values[name] for variable, name in wanted.items()})
    return env


CLOUD_DEPLOY_PREFIX = "CLOUD_DEPLOY_"


def run_context(ctx: click.Context, env: Mapping[str, str]) -> RunContext:
    """The config file read, and the Cloud Deploy job's variables, for the report."""
    deploy = {
        name[len(CLOUD_DEPLOY_PREFIX) :].lower(): value
        for name, value in sorted(env.items())
        if name.startswith(CLOUD_DEPLOY_PREFIX) and value
    }
    return RunContext(config=ctx.meta.get("gate.config_path"), cloud_deploy=deploy)


def webhooks(options: Options, redactor: Redactor) -> tuple[Webhook, ...]:
    """The ``--notify`` webhooks, validated, their credentials registered as secrets."""
    hooks = parse_webhooks(tuple(options.get("notify") or ()))
    for hook in hooks:
        redactor.add(*secrets_of(hook))
    return hooks
