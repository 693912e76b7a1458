"""``gate.config.scenario``: named sockets and their claims, validated with one line each."""

from __future__ import annotations

import pytest

from gate.config.scenario import parse_scenario
from gate.errors import ConfigError


def test_steps_name_their_sockets_and_a_socket_may_carry_claims() -> None:
    scenario = parse_scenario(
        {"sockets": {"bob": {"claims": {"sub": "bob"}}},
         "steps": [{"send": "hi"}, {"socket": "bob", "expect": "hi"}]},
        5.0,
    )  # fmt: skip
    assert [s.socket for s in scenario.steps] == ["main", "bob"]
    assert scenario.sockets == ("main", "bob")
    assert scenario.claims == {"bob": {"sub": "bob"}}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"steps": [{"send": "x", "socket": "bob smith"}]},
         "gate.toml: scenario step 1: socket 'bob smith': name it with letters, digits and _"),
        ({"steps": [{"send": "x", "socket": 3}]}, "socket 3: name it"),
        ({"sockets": {"carol": {"claims": {}}}, "steps": [{"send": "x"}]},
         "gate.toml: [scenario.sockets.carol]: no step uses this socket; add socket = 'carol'"),
        ({"sockets": {"main": {"claim": {}}}, "steps": [{"send": "x"}]},
         "[scenario.sockets.main]: give claims = { ... } and nothing else"),
        ({"sockets": {"main": {"claims": "bob"}}, "steps": [{"send": "x"}]},
         "claims must be a table"),
        ({"sockets": ["bob"], "steps": [{"send": "x"}]}, "[scenario.sockets] must be a table"),
    ],
    ids=["spaces", "number", "unused", "unknown-key", "claims-not-table", "not-a-table"],
)  # fmt: skip
def test_a_bad_socket_is_one_line(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_scenario(raw, 5.0)
    assert message in caught.value.message
