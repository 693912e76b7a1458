"""The JSON report, schema ``gate.report/v1`` (a contract: see README, "JSON report").

Fields are only ever added to this schema; renaming or removing one needs a
``gate.report/v2``.
"""

from __future__ import annotations

import json

from gate.model import CheckResult, Finding, MultiResult, RunContext, RunResult, utc_text

SCHEMA = "gate.report/v1"


def check_dict(check: CheckResult) -> dict[str, object]:
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


def _warnings(found: tuple[Finding, ...]) -> list[dict[str, str]]:
    return [{"code": w.code, "message": w.message} for w in found]


def _context(context: RunContext) -> dict[str, object]:
    """``config`` (the file read, or null) and ``cloud_deploy`` (its variables, or null)."""
    return {"config": context.config, "cloud_deploy": dict(context.cloud_deploy) or None}


def report_dict(result: RunResult) -> dict[str, object]:
    """The whole report as plain data."""
    return {
        "schema": SCHEMA,
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "target": dict(result.target),
        "run_id": result.run_id,
        "started_at": utc_text(result.started_at),
        "duration_ms": result.duration_ms,
        "checks": [check_dict(c) for c in result.checks],
        "warnings": _warnings(result.warnings),
        "trace_id": result.trace_id,
        "logs": dict(result.logs) if result.logs is not None else None,
        "action": dict(result.action) if result.action is not None else None,
        "error": result.error,
        "interrupted": result.interrupted,
        **_context(result.context),
        "steps": [dict(step) for step in result.steps],
        "revision_config": (
            dict(result.revision_config) if result.revision_config is not None else None
        ),
    }


def multi_dict(result: MultiResult) -> dict[str, object]:
    """The report of several targets: the same top-level keys, and ``targets``."""
    return {
        "schema": SCHEMA,
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "target": None,
        "run_id": result.run_id,
        "started_at": utc_text(result.started_at),
        "duration_ms": result.duration_ms,
        "checks": [],
        "steps": [],
        "revision_config": None,
        "warnings": _warnings(result.notices),
        "trace_id": None,
        "logs": None,
        "action": None,
        "error": result.error,
        "interrupted": result.interrupted,
        **_context(result.context),
        "targets": [{"name": name, **report_dict(r)} for name, r in result.results],
    }


def render_json(result: RunResult | MultiResult) -> str:
    """The report as indented JSON text."""
    data = multi_dict(result) if isinstance(result, MultiResult) else report_dict(result)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
