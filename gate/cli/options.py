"""Building click options from the one table, and loading ``gate.toml`` into them.

Precedence is click's own: a flag on the command line, then the option's
environment variable (``GATE_`` + the name in upper case), then the config
file (``--config PATH``, or ``./gate.toml``; loaded into click's
``default_map`` by an eager option), then the default.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from gate.config.file import env_name, find_config, read_config
from gate.config.inputs import DEFAULTS
from gate.errors import GateError

F = TypeVar("F", bound=Callable[..., Any])

CONFIGURED = frozenset({"check", "verify", "snapshot", "rollback", "promote"})
"""The commands that read ``GATE_*`` variables and ``gate.toml``: all the gate's own."""

TARGET, WEBSOCKET, CREDENTIALS = "Target", "WebSocket", "Credentials and TLS"
TIMING, LOAD, REPORTS = "Timing", "Load and latency", "Reports and notifications"
CLOUD_RUN, ACTIONS, CANARY = "Cloud Run", "Traffic actions", "Canary steps and watch"
GROUPS = (TARGET, CLOUD_RUN, WEBSOCKET, CREDENTIALS, TIMING, LOAD, ACTIONS, CANARY, REPORTS)
"""The sections of a command's help, in order; options of no group come last."""
CONFIG_SECTIONS = ("scenario", "targets", "canary_metrics")
"""Tables of ``gate.toml`` that are no option: read by the commands themselves."""


class _Lines(click.types.StringParamType):
    """Text whose environment variable holds one value per line (values may contain spaces)."""

    envvar_list_splitter = "\n"


class Finite(click.FloatRange):
    """A ``FloatRange`` that also refuses ``nan`` and infinity, which compare as in range."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number


LINES = _Lines()
HOUR = 3600.0
SECONDS = Finite(min=0.001, max=HOUR)
"""A time limit: more than nothing, at most an hour (Cloud Run's longest request)."""


@dataclass(frozen=True)
class Option:
    """One option of the gate: everything about it, for click, the README and the action."""

    name: str
    flag: str
    help: str
    commands: tuple[str, ...]
    type: click.ParamType[Any] | None = None
    multiple: bool = False
    is_flag: bool = False
    metavar: str | None = None
    argument: bool = False
    shown: str | None = None
    required: tuple[str, ...] = ()
    help_for: Mapping[str, str] = field(default_factory=dict)
    group: str = ""
    fallback_env: str | None = None
    """A variable read below ``GATE_*``: Cloud Deploy's ``CLOUD_RUN_*`` for a verify job."""

    @property
    def default(self) -> object:
        """Its default, declared once, on :class:`~gate.config.inputs.Inputs`; ``None``
        for none (an empty repeatable option, a flag that is off, no value)."""
        value = getattr(DEFAULTS, self.name, None)
        if value == () or value is False:
            return None
        return value

    @property
    def env(self) -> str:
        """Its environment variable."""
        return env_name(self.name)

    @property
    def default_text(self) -> str:
        """The default as the README shows it."""
        if self.shown is not None:
            return self.shown
        if self.is_flag:
            return "off"
        return "(none)" if self.default is None else str(self.default)

    @property
    def envvars(self) -> tuple[str, ...]:
        """The variables it is read from, highest precedence first."""
        return (self.env, self.fallback_env) if self.fallback_env else (self.env,)

    def decorator(self, command: str) -> Callable[[F], F]:
        """The click decorator declaring this option (or argument) on ``command``."""
        envvar = list(self.envvars) if command in CONFIGURED else None
        if self.argument:
            return click.argument(self.name, required=False, envvar=envvar)
        shown = self.default is not None and not self.is_flag and not self.multiple
        text = self.help_for.get(command, self.help) + (" Repeatable." if self.multiple else "")
        if envvar is not None:  # where else it is read from, as the configuration page says
            text = f"{text}  [env: {', '.join(self.envvars)}; gate.toml: {self.name}]"
        # A default of None is left out, not passed: click (8.3+) takes an explicit
        # default=None as a value, which would satisfy a required option.
        default: dict[str, Any] = {} if self.default is None else {"default": self.default}
        return click.option(
            self.flag,
            self.name,
            help=text,
            type=self.type,
            multiple=self.multiple,
            is_flag=self.is_flag or None,
            metavar=self.metavar,
            required=command in self.required,
            envvar=envvar,
            show_default=shown,
            **default,
        )


class GroupedCommand(click.Command):
    """A command whose help shows its options in sections (:data:`GROUPS`), then examples.

    Uses only click's public formatting API: each parameter's own help record,
    written into a section of the formatter, instead of one flat list of fifty.
    """

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from gate.cli.table import OPTIONS

        group_of = {o.name: o.group for o in OPTIONS}
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                sections.setdefault(group_of.get(param.name or "", ""), []).append(record)
        for group in (*GROUPS, ""):
            if group in sections:
                with formatter.section(f"{group or 'General'} options"):
                    formatter.write_dl(sections[group])

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The examples, as written (one command per line)."""
        if self.epilog:
            with formatter.section("Examples"):
                for line in self.epilog.strip().splitlines():
                    formatter.write(f"{'':>{formatter.current_indent}}{line.rstrip()}\n")


def config_option(func: F) -> F:
    """``--config PATH``: read ``gate.toml`` into the command's defaults, before other options."""
    return click.option(
        "--config",
        type=click.Path(dir_okay=False),
        metavar="PATH",
        is_eager=True,
        expose_value=False,
        callback=_load_config,
        help="Config file.  [default: ./gate.toml when present]",
    )(func)


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from gate.cli.output import fail
    from gate.cli.table import OPTIONS

    path = find_config(value)
    if path is None:
        return None
    try:
        values = read_config(path, known_options(OPTIONS), sections=CONFIG_SECTIONS)
    except GateError as error:
        fail(error)
    own = {p.name for p in ctx.command.params if p.name}
    values = as_lists(values, OPTIONS)
    ctx.default_map = {**(ctx.default_map or {}), **{k: v for k, v in values.items() if k in own}}
    ctx.meta["gate.config"] = values
    ctx.meta["gate.config_path"] = str(path)
    return str(path)


def as_lists(values: Mapping[str, object], options: Iterable[Option]) -> dict[str, object]:
    """``values`` with a single string for a repeatable option read as a list of one
    (``subprotocol = "chat.v1"`` as people write it, for ``["chat.v1"]``)."""
    repeatable = {o.name for o in options if o.multiple}
    return {k: [v] if k in repeatable and isinstance(v, str) else v for k, v in values.items()}


def known_options(options: Iterable[Option]) -> frozenset[str]:
    """The keys a config file may set: the options of the commands that read it."""
    return frozenset(o.name for o in options if CONFIGURED & set(o.commands))


def declare(command: str, options: Iterable[Option]) -> Callable[[F], F]:
    """Every option of ``command``, in table order (plus ``--config`` where it applies)."""
    mine = [o for o in options if command in o.commands]

    def apply(func: F) -> F:
        for option in reversed(mine):
            func = option.decorator(command)(func)
        return config_option(func) if command in CONFIGURED else func

    return apply


def markdown_table(options: Iterable[Option]) -> str:
    """The README's configuration table: the options that read ``GATE_*`` and ``gate.toml``."""
    rows = [
        "| flag | gate.toml key | environment | default | commands |",
        "| --- | --- | --- | --- | --- |",
    ]
    for o in options:
        commands = [c for c in o.commands if c in CONFIGURED]
        if not commands:
            continue
        flag = f"{o.flag} (argument)" if o.argument else o.flag
        env = ", ".join(f"`{name}`" for name in o.envvars)
        rows.append(f"| `{flag}` | `{o.name}` | {env} | {o.default_text} | {', '.join(commands)} |")
    return "\n".join(rows) + "\n"
