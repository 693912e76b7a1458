"""``[[targets]]`` in ``gate.toml``: several services (or regions) gated in one run.

.. code-block:: toml

    deadline = 60                  # shared by every target

    [[targets]]
    name = "eu"
    url = "https://api.eu.example.com"

    [[targets]]
    name = "us"
    url = "https://api.us.example.com"
    health_path = ["/api/health"]

Each table takes a ``name`` and any option key; its values override the file's
top level, the environment and the defaults, and are overridden only by flags
on the command line (a flag is a deliberate choice for every target). All
targets run concurrently; the report has one section per target and the exit
code is the worst of all. With ``gate verify``, rollbacks and promotions touch
only the target whose own verdict called for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gate.config.inputs import Inputs, inputs_from
from gate.errors import ConfigError


@dataclass(frozen=True)
class Target:
    """One target: its name and the option values it sets."""

    name: str
    overrides: dict[str, object]


def parse_targets(raw: object, known: Iterable[str]) -> list[Target]:
    """Validate ``[[targets]]``: a list of tables of known option keys, names unique."""
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        raise ConfigError("gate.toml: targets must be one or more [[targets]] tables")
    allowed = set(known)
    targets: list[Target] = []
    for number, table in enumerate(raw, 1):
        overrides: dict[str, object] = {}
        name = str(table.get("name") or f"target-{number}")
        for key, value in table.items():
            option = key.replace("-", "_")
            if option == "name":
                continue
            if option not in allowed:
                raise ConfigError(f"gate.toml: target {name!r}: unknown key {key!r}")
            overrides[option] = value
        targets.append(Target(name, overrides))
    names = [t.name for t in targets]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise ConfigError(f"gate.toml: two targets are named {duplicate!r}: names must be unique")
    return targets


def target_options(
    base: Inputs,
    target: Target,
    from_command_line: Callable[[str], bool],
    convert: Callable[[str, object], object],
) -> Inputs:
    """The options of one target: ``base`` with the target's values, flags kept."""
    overrides = {
        key: convert(key, value)
        for key, value in target.overrides.items()
        if not from_command_line(key)
    }
    return inputs_from(overrides, base)
