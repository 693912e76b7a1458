"""The ``[scenario]`` of ``gate.toml``: ordered steps on one or more authenticated WebSockets.

.. code-block:: toml

    [scenario]
    timeout = 10                       # default per-step timeout, seconds

    [[scenario.steps]]
    send = { type = "user_message", text = "hello", run_id = "{run_id}" }
    expect = [{ type = "agent_started" }, { type = "agent_completed" }]
    timeout = 30

Each step sends ``send`` (a string as is, a table as JSON) and/or waits for
``expect``: JSON subsets (tables) or substrings (strings) that must arrive in
that order; other messages may interleave. ``{run_id}`` and ``{trace_id}`` in
sent text are replaced by the run's values.

A step runs on the socket it names (``socket = "alice"``; default ``"main"``), which
opens on first use with the target's URL, subprotocols and credential, or, for a
socket of ``[scenario.sockets.NAME]``, with its own ``claims`` over the minted token's
(two users who talk to each other); each step's ``expect`` waits on its own socket:

.. code-block:: toml

    [scenario.sockets.bob]
    claims = { sub = "bob" }

    [[scenario.steps]]
    socket = "alice"
    send = { type = "join", room = "r1" }
    expect = { type = "joined" }
    # ... bob joins, alice says something, then:
    [[scenario.steps]]
    socket = "bob"
    expect = { type = "said", text = "hello" }
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from gate.errors import ConfigError
from gate.matching import Json

Expected = str | dict[str, Json]
"""An expected message: a substring, or a JSON subset."""

_STEP_KEYS = {"send", "expect", "timeout", "socket"}
_SCENARIO_KEYS = {"steps", "timeout", "sockets"}
_SOCKET_KEYS = {"claims"}
MAIN = "main"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


@dataclass(frozen=True)
class Step:
    """One step: what to send, what must arrive in order, and how long to wait."""

    send: str | dict[str, Json] | None
    expect: tuple[Expected, ...]
    timeout: float
    socket: str = MAIN

    def rendered(self, values: dict[str, str]) -> str | None:
        """The text to send, with placeholders filled."""
        if self.send is None:
            return None
        text = self.send if isinstance(self.send, str) else json.dumps(self.send)
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        return text


@dataclass(frozen=True)
class Scenario:
    """The ordered steps, and the claims of the sockets that have their own user."""

    steps: tuple[Step, ...]
    claims: dict[str, dict[str, Json]] = field(default_factory=dict)

    @property
    def sockets(self) -> tuple[str, ...]:
        """Every socket a step uses, in the order of first use."""
        return tuple(dict.fromkeys(step.socket for step in self.steps))


def describe(expected: Expected) -> str:
    """An expected item as the report shows it."""
    return expected if isinstance(expected, str) else json.dumps(expected, sort_keys=True)


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}: timeout must be a positive number of seconds")
    return float(value)


def parse_scenario(raw: object, default_timeout: float) -> Scenario:
    """Validate the ``scenario`` table; every mistake names the step and the key."""
    if not isinstance(raw, dict):
        raise ConfigError("gate.toml: [scenario] must be a table with [[scenario.steps]]")
    unknown = set(raw) - _SCENARIO_KEYS
    if unknown:
        raise ConfigError(f"gate.toml: unknown key {sorted(unknown)[0]!r} in [scenario]")
    timeout = _number(raw["timeout"], "[scenario]") if "timeout" in raw else default_timeout
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise ConfigError("gate.toml: [scenario] needs at least one [[scenario.steps]]")
    steps = []
    for number, item in enumerate(steps_raw, 1):
        where = f"gate.toml: scenario step {number}"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: must be a table")
        unknown = set(item) - _STEP_KEYS
        if unknown:
            raise ConfigError(
                f"{where}: unknown key {sorted(unknown)[0]!r} (send, expect, timeout)"
            )
        send = item.get("send")
        if send is not None and not isinstance(send, str | dict):
            raise ConfigError(f"{where}: send must be a string or a table")
        expect = item.get("expect", [])
        if isinstance(expect, str | dict):
            expect = [expect]
        if not isinstance(expect, list) or not all(isinstance(e, str | dict) for e in expect):
            raise ConfigError(f"{where}: expect must be a list of tables or strings")
        if send is None and not expect:
            raise ConfigError(f"{where}: give send, expect, or both")
        step_timeout = _number(item["timeout"], where) if "timeout" in item else timeout
        socket = item.get("socket", MAIN)
        if not isinstance(socket, str) or not _NAME.fullmatch(socket):
            raise ConfigError(
                f"{where}: socket {socket!r}: name it with letters, digits and _ (like alice)"
            )
        steps.append(Step(send, tuple(expect), step_timeout, socket))
    scenario = Scenario(tuple(steps))
    return Scenario(scenario.steps, _socket_claims(raw.get("sockets", {}), scenario.sockets))


def _socket_claims(raw: object, used: tuple[str, ...]) -> dict[str, dict[str, Json]]:
    """``[scenario.sockets.NAME]`` tables: each names a socket a step uses, and its claims."""
    if not isinstance(raw, dict):
        raise ConfigError("gate.toml: [scenario.sockets] must be a table of sockets")
    claims: dict[str, dict[str, Json]] = {}
    for name, table in raw.items():
        where = f"gate.toml: [scenario.sockets.{name}]"
        if name not in used:
            raise ConfigError(f"{where}: no step uses this socket; add socket = {name!r} to one")
        if not isinstance(table, dict) or set(table) - _SOCKET_KEYS:
            raise ConfigError(f"{where}: give claims = {{ ... }} and nothing else")
        given = table.get("claims", {})
        if not isinstance(given, dict):
            raise ConfigError(f'{where}: claims must be a table, e.g. claims = {{ sub = "bob" }}')
        claims[name] = given
    return claims
