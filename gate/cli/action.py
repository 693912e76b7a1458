"""The script of the GitHub Action (``action.yml``): its inputs to a ``gate`` command line.

The action passes all its inputs as one JSON object (``GATE_ACTION_INPUTS:
${{ toJSON(inputs) }}``). Every input of a gate option defaults to empty and
becomes a flag only when set, so ``gate.toml``, ``GATE_*`` variables and the
gate's own defaults keep their precedence. The inputs are derived from the one
options table (:func:`inputs_of`); ``tools/action_yml.py`` writes them into
``action.yml`` and a test keeps the two equal.

Input values: a flag option takes ``true`` (an on/off pair such as
``check-auth`` also ``false``, for ``--no-check-auth``); a repeatable option
takes one value per line; any other, its value. Besides the options:
``command`` (``verify``, the default, or ``check``), ``config``, and the
action's own ``version`` and ``python-version``, used by the steps before
this one.

The script prints the command line it runs (secret values masked), runs the
gate, then adds the outputs the gate does not write itself (``exit-code``, and
``junit`` when a JUnit path is configured) to ``$GITHUB_OUTPUT``, and exits
with the gate's code. The gate writes ``verdict`` and ``report``. Inputs the
action refuses before the gate runs (exit 2) still set ``exit-code`` (and
``verdict=error``), so a later step's ``if:`` can read them on every exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from gate.cli.options import CONFIG_SECTIONS, Option, known_options
from gate.cli.table import OPTIONS
from gate.config.file import find_config, read_config
from gate.errors import ConfigError, ExitCode
from gate.report.ci import append_to

COMMANDS = ("verify", "check")
ACTION_INPUTS = ("command", "config", "version", "python-version")
"""Inputs that are no option of the table."""
SECRET_INPUTS = frozenset({"header", "notify"})
"""Inputs whose values are masked when the command line is printed."""


def input_name(option: Option) -> str:
    """The action input of an option: its flag without dashes (``url`` for the argument)."""
    if option.argument:
        return option.name
    return option.flag.split("/")[0].removeprefix("--")


def inputs_of(options: Sequence[Option] = OPTIONS) -> list[Option]:
    """The options that are action inputs: every option of ``check`` and ``verify``."""
    return [o for o in options if {"check", "verify"} & set(o.commands)]


def _flags(option: Option, value: str) -> list[str]:
    """The arguments one input adds; a configuration error for a value it cannot take."""
    name = input_name(option)
    if option.argument:
        return [value]
    if "/" in option.flag:  # --check-auth/--no-check-auth, --metrics/--no-metrics
        if value not in ("true", "false"):
            raise ConfigError(f"input {name}: give true or false, not {value!r}")
        on, off = option.flag.split("/")
        return [on if value == "true" else off]
    if option.is_flag:
        if value not in ("true", "false"):
            raise ConfigError(f"input {name}: give true or false, not {value!r}")
        return [option.flag] if value == "true" else []
    if option.multiple:
        return [arg for line in value.splitlines() if line.strip() for arg in (option.flag, line)]
    return [option.flag, value]


def command_line(inputs: Mapping[str, object]) -> list[str]:
    """The ``gate`` arguments for ``inputs`` (the action's ``toJSON(inputs)``)."""
    values = {k: str(v).strip() if v is not None else "" for k, v in inputs.items()}
    command = values.get("command") or "verify"
    if command not in COMMANDS:
        raise ConfigError(f"input command: give verify or check, not {command!r}")
    args = [command]
    if values.get("config"):
        args += ["--config", values["config"]]
    for option in inputs_of():
        value = values.get(input_name(option), "")
        if not value:
            continue
        if command not in option.commands:
            raise ConfigError(f"input {input_name(option)} is not an option of gate {command}")
        args += _flags(option, value)
    return args


def shown(args: Sequence[str]) -> str:
    """The command line as printed: values of secret options masked."""
    secret_flags = {f"--{name}" for name in SECRET_INPUTS}
    out = []
    for before, arg in zip(["", *args], args, strict=False):
        out.append("[redacted]" if before in secret_flags else arg)
    return " ".join(["gate", *out])


def junit_path(inputs: Mapping[str, object], env: Mapping[str, str]) -> str | None:
    """Where the JUnit report goes, if anything configures it (for the ``junit`` output)."""
    given = str(inputs.get("junit") or "").strip() or env.get("GATE_JUNIT", "").strip()
    if given:
        return given
    config = find_config(str(inputs.get("config") or "").strip() or None)
    if config is None:
        return None
    try:
        value = read_config(config, known_options(OPTIONS), CONFIG_SECTIONS).get("junit")
    except ConfigError:
        return None  # the gate itself reports a broken config file
    return str(value) if value else None


def main() -> int:
    """Run the gate for the action's inputs; its exit code."""
    env = os.environ
    try:
        inputs = json.loads(env.get("GATE_ACTION_INPUTS") or "{}")
        if not isinstance(inputs, dict):
            raise ConfigError("GATE_ACTION_INPUTS is not a JSON object")
        args = command_line(inputs)
    except (ValueError, ConfigError) as error:
        message = error.message if isinstance(error, ConfigError) else str(error)
        print(f"::error::smoke-gate action: {message}", flush=True)
        # The gate never ran, so it wrote no verdict: the step's outputs say why it stopped.
        _write_outputs(env, [f"exit-code={int(ExitCode.USAGE)}", "verdict=error"])
        return ExitCode.USAGE
    print(f"smoke-gate action: {shown(args)}", flush=True)
    # A list, no shell: the inputs are arguments of the gate, never commands.
    code = subprocess.call([sys.executable, "-m", "gate", *args])  # noqa: S603
    outputs = [f"exit-code={code}"]
    junit = junit_path(inputs, env)
    if junit is not None:
        outputs.append(f"junit={Path(junit).resolve()}")
    _write_outputs(env, outputs)
    return code


def _write_outputs(env: Mapping[str, str], outputs: Sequence[str]) -> None:
    """Append ``outputs`` to ``$GITHUB_OUTPUT``; a file that cannot be written is a warning."""
    problem = append_to(env, "GITHUB_OUTPUT", "".join(f"{line}\n" for line in outputs))
    if problem is not None:
        print(f"::warning::smoke-gate action: {problem}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
