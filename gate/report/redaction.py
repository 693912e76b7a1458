"""The output boundary: a result with every text redacted and sanitised, before any renderer.

The probes redact what they record, but not everything in a result comes from
a probe (log entries, API errors, a server's text quoted in a summary): every
string of the result passes through the run's redactor here once more, in
every renderer's input, so no output can hold a registered secret in any of
its forms, and no control character reaches a terminal, an annotation or XML.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, cast

from gate.model import CheckResult, Finding, Result, RunResult
from gate.redact import Redactor
from gate.text import sanitize

T = TypeVar("T")


def _deep(value: T, redactor: Redactor) -> T:
    if isinstance(value, str):
        return cast(T, sanitize(redactor.text(value)))
    if isinstance(value, dict):
        return cast(T, {_deep(k, redactor): _deep(v, redactor) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return cast(T, type(value)(_deep(item, redactor) for item in value))
    return value


def _findings(found: tuple[Finding, ...], redactor: Redactor) -> tuple[Finding, ...]:
    return tuple(Finding(w.code, _deep(w.message, redactor)) for w in found)


def _check(check: CheckResult, redactor: Redactor) -> CheckResult:
    return dataclasses.replace(
        check,
        summary=_deep(check.summary, redactor),
        hint=_deep(check.hint, redactor),
        evidence=_deep(dict(check.evidence), redactor),
        warnings=_findings(check.warnings, redactor),
    )


def _run(result: RunResult, redactor: Redactor) -> RunResult:
    fields: dict[str, Any] = {
        "target": _deep(dict(result.target), redactor),
        "checks": tuple(_check(c, redactor) for c in result.checks),
        "logs": _deep(result.logs, redactor),
        "action": _deep(result.action, redactor),
        "error": _deep(result.error, redactor),
        "notices": _findings(result.notices, redactor),
        "steps": _deep(result.steps, redactor),
    }
    return dataclasses.replace(result, **fields)


def redacted(result: Result, redactor: Redactor) -> Result:
    """``result`` with every string redacted and free of control characters."""
    if isinstance(result, RunResult):
        return _run(result, redactor)
    named = tuple((name, _run(r, redactor)) for name, r in result.results)
    return dataclasses.replace(result, results=named, notices=_findings(result.notices, redactor))
