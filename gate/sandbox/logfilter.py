"""The Cloud Logging filter language, in exactly the subset the gate writes.

Clauses on known fields (``resource.type``, ``resource.labels.*``,
``severity``, ``timestamp``, ``logName``, ``httpRequest.status``,
``textPayload``, ``trace``) joined by ``AND`` and ``OR`` with parentheses, ``AND`` binding
tighter, as in Cloud Logging. ``textPayload=~"RE"`` is the Logging query
language's regular-expression comparison: RE2 syntax, case-sensitive (unlike
its other string comparisons), and a search, not a full match (the query
language page anchors its own example, ``logName =~ "/my%2Flog$"``, to match
a suffix). The gate sends expressions that mean the same in RE2 and Python's
``re`` (:mod:`gate.stacks`), so they are searched with ``re.search``; an
expression Python cannot compile is refused like any unsupported filter.
Anything else is a :class:`FilterError`, which the emulator answers
with INVALID_ARGUMENT: a filter the emulator cannot read is never silently
ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from gate.cloud.model import SEVERITIES as LEVELS

SEVERITIES = {name: 100 * rank for rank, name in enumerate(LEVELS)}  # log_severity.proto
_FIELDS = {
    "resource.type": ("=",),
    "resource.labels.service_name": ("=",),
    "resource.labels.revision_name": ("=",),
    "resource.labels.location": ("=",),
    "severity": (">=", "="),
    "timestamp": (">=", ">"),
    "logName": ("=",),
    "httpRequest.status": (">=",),
    "textPayload": ("=~",),
    "trace": ("=",),
}
_TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<word>AND|OR)(?=[\s(])"
    r'|(?P<field>[A-Za-z_.]+)\s*(?P<op>>=|<=|=~|=|>|<)\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s()]+)))'
)


class FilterError(ValueError):
    """The filter is outside the subset the emulator understands."""


@dataclass(frozen=True)
class Clause:
    """One comparison of a field with a value."""

    field: str
    op: str
    value: str


@dataclass(frozen=True)
class Combined:
    """Clauses joined by one operator."""

    op: Literal["AND", "OR"]
    parts: tuple[Node, ...]


Node = Clause | Combined


def _tokens(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(f"unsupported filter at {text[position:][:40]!r}")
        position = match.end()
        if match["open"] or match["close"]:
            tokens.append((match["open"] or match["close"], None))
        elif match["word"]:
            tokens.append((match["word"], None))
        else:
            value = match["quoted"] if match["quoted"] is not None else match["bare"]
            tokens.append(("clause", _clause(match["field"], match["op"], value)))
    return tokens


def _clause(field: str, op: str, value: str) -> Clause:
    if op not in _FIELDS.get(field, ()):
        raise FilterError(f"the emulator does not support {field}{op}: extend it or change it")
    if field == "severity" and value not in SEVERITIES:
        raise FilterError(f"unknown severity {value!r}")
    if op == "=~":
        try:
            re.compile(value)
        except re.error as exc:
            raise FilterError(f"invalid regular expression {value!r}: {exc}") from None
    return Clause(field, op, value)


def parse_log_filter(text: str) -> Node:
    """Parse ``text`` into a tree of clauses."""
    tokens = _tokens(text)
    node, rest = _expression(tokens)
    if rest:
        raise FilterError(f"unexpected {rest[0][0]!r} in the filter")
    return node


def _expression(tokens: list[tuple[str, Any]]) -> tuple[Node, list[tuple[str, Any]]]:
    return _joined(tokens, "OR", _conjunction)


def _conjunction(tokens: list[tuple[str, Any]]) -> tuple[Node, list[tuple[str, Any]]]:
    return _joined(tokens, "AND", _factor)


def _joined(
    tokens: list[tuple[str, Any]],
    word: Literal["AND", "OR"],
    part: Any,
) -> tuple[Node, list[tuple[str, Any]]]:
    node, rest = part(tokens)
    parts = [node]
    while rest and rest[0][0] == word:
        node, rest = part(rest[1:])
        parts.append(node)
    return (parts[0] if len(parts) == 1 else Combined(word, tuple(parts))), rest


def _factor(tokens: list[tuple[str, Any]]) -> tuple[Node, list[tuple[str, Any]]]:
    if not tokens:
        raise FilterError("the filter ends where a clause was expected")
    kind, value = tokens[0]
    if kind == "clause":
        return value, tokens[1:]
    if kind == "(":
        node, rest = _expression(tokens[1:])
        if not rest or rest[0][0] != ")":
            raise FilterError("unbalanced parentheses in the filter")
        return node, rest[1:]
    raise FilterError(f"unexpected {kind!r} in the filter")


def matches(node: Node, entry: Any, timestamp: datetime) -> bool:
    """Whether the LogEntry ``entry`` (written at ``timestamp``) satisfies the filter."""
    if isinstance(node, Combined):
        test = all if node.op == "AND" else any
        return test(matches(part, entry, timestamp) for part in node.parts)
    field, op, value = node.field, node.op, node.value
    if field == "resource.type":
        return bool(entry.resource.type == value)
    if field.startswith("resource.labels."):
        return bool(entry.resource.labels.get(field.rpartition(".")[2]) == value)
    if field == "severity":
        severity = int(entry.severity)
        wanted = SEVERITIES[value]
        return severity >= wanted if op == ">=" else severity == wanted
    if field == "logName":
        return bool(entry.log_name == value)
    if field == "httpRequest.status":
        return int(entry.http_request.status) >= int(value)
    if field == "textPayload":
        return re.search(value, entry.text_payload) is not None
    if field == "trace":
        return bool(entry.trace == value)
    bound = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return timestamp > bound if op == ">" else timestamp >= bound
