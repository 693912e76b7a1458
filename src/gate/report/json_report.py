"""The JSON report, schema ``gate.report/v1`` (a contract: see README, "JSON report").

Fields are only ever added to this schema; renaming or removing one needs a
``gate.report/v2``.
"""

from __future__ import annotations

import json
from typing import Any

from gate.checks.result import CheckResult
from gate.runner import RunResult

SCHEMA = "gate.report/v1"


def check_dict(check: CheckResult) -> dict[str, Any]:
    """One entry of ``checks``."""
    return {
        "id": check.id,
        "status": check.status,
        "diagnosis": check.diagnosis,
        "summary": check.summary,
        "hint": check.hint,
        "duration_ms": check.duration_ms,
        "attempts": check.attempts,
        "evidence": dict(check.evidence),
    }


def report_dict(result: RunResult) -> dict[str, Any]:
    """The whole report as plain data."""
    return {
        "schema": SCHEMA,
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "target": dict(result.target),
        "run_id": result.run_id,
        "started_at": result.started_at.isoformat().replace("+00:00", "Z"),
        "duration_ms": result.duration_ms,
        "checks": [check_dict(c) for c in result.checks],
        "warnings": [{"code": w.code, "message": w.message} for w in result.warnings],
        "trace_id": result.trace_id,
        "logs": dict(result.logs) if result.logs is not None else None,
        "action": dict(result.action) if result.action is not None else None,
        "error": result.error,
    }


def render_json(result: RunResult) -> str:
    """The report as indented JSON text."""
    return json.dumps(report_dict(result), indent=2, ensure_ascii=False) + "\n"
