"""Pure matching rules shared by probes (to know when to stop) and checks (to judge).

A JSON *subset* ``expected`` matches ``actual`` when every key of an expected
object is present with a matching value, every item of an expected list
matches some item of the actual list (in any order), and scalars are equal.
``--expect`` is a JSON subset when it parses as a JSON object, otherwise a
plain substring of the message text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeAlias

Json: TypeAlias = bool | int | float | str | list["Json"] | dict[str, "Json"] | None
"""A parsed JSON (or TOML) value."""


def json_subset(expected: Json, actual: Json) -> bool:
    """True when ``expected`` is contained in ``actual`` (see module docstring)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and json_subset(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(
            any(json_subset(item, candidate) for candidate in actual) for item in expected
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def parse_json(text: str) -> Json:
    """Parse ``text`` as JSON, or return ``None`` when it is not JSON."""
    try:
        value: Json = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return value


def message_matcher(expect: str | None) -> Callable[[str], bool]:
    """Build the predicate for ``--expect``: JSON subset for an object, substring otherwise."""
    if expect is None:
        return lambda _text: True
    expected = parse_json(expect)
    if isinstance(expected, dict):
        return lambda text: json_subset(expected, parse_json(text))
    return lambda text: expect in text


_ERROR_WORDS = ("error", "unauthorized", "unauthenticated", "forbidden", "denied", "invalid")


def looks_like_error(text: str) -> bool:
    """True for a reply that reads as a refusal (``{"type": "error", ...}``, ``{"error": ...}``).

    Used only for the negative credentials of ``ws.auth_enforced`` when no
    ``--expect`` is given: a server that answers a bad token with an error
    message and no service has enforced authentication.
    """
    value = parse_json(text)
    if isinstance(value, dict):
        if "error" in value or "errors" in value:
            return True
        fields = (value.get(key) for key in ("type", "event", "status", "code"))
        return any(
            isinstance(field, str) and any(word in field.lower() for word in _ERROR_WORDS)
            for field in fields
        )
    lowered = text.lower()
    return any(word in lowered for word in _ERROR_WORDS)
