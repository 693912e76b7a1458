"""``gate.config.inputs``: every source of options becomes a typed ``Inputs``, checked at the edge."""

from __future__ import annotations

import pytest

from gate.cli.table import OPTIONS
from gate.config.inputs import DEFAULTS, FIELDS, Inputs, inputs_from
from gate.config.settings import Settings, VerifyOptions
from gate.errors import ConfigError


def test_every_option_of_the_table_is_a_field_and_takes_its_default_from_it() -> None:
    assert {o.name for o in OPTIONS} <= FIELDS
    assert FIELDS - {o.name for o in OPTIONS} == {"cloud_deploy"}  # set by the CLI, no flag
    by_name = {o.name: o for o in OPTIONS}
    assert by_name["deadline"].default == 60.0
    assert by_name["health_path"].default is None  # an empty repeatable option: none
    assert by_name["connections"].default == 0  # zero is a value, not "none"


def test_the_settings_defaults_are_the_inputs_defaults() -> None:
    settings = Settings(url="https://api")
    assert (settings.deadline, settings.message_timeout, settings.send) == (
        DEFAULTS.deadline, DEFAULTS.message_timeout, DEFAULTS.send,
    )  # fmt: skip
    options = VerifyOptions("p", "r", "s")
    assert (options.metrics_delay, options.action_timeout) == (
        DEFAULTS.metrics_delay, DEFAULTS.action_timeout,
    )  # fmt: skip


def test_values_are_typed_lists_become_tuples_and_ints_pass_as_floats() -> None:
    given = inputs_from({"subprotocol": ["chat.v1"], "deadline": 5, "url": "https://api"})
    assert given == Inputs(url="https://api", subprotocol=("chat.v1",), deadline=5)
    assert inputs_from({"deadline": 9.0}, given).url == "https://api"  # over a base


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"deadline": "ninety"}, "deadline = 'ninety': expected float"),
        ({"connections": True}, "connections = True: expected int"),
        ({"subprotocol": "chat.v1"}, "subprotocol = 'chat.v1': expected tuple[str, ...]"),
        ({"colour": "red"}, "colour: not an option of the gate"),
    ],
    ids=["text-for-a-number", "bool-for-an-int", "text-for-a-list", "unknown"],
)
def test_a_value_of_the_wrong_type_is_named(values: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        inputs_from(values)
