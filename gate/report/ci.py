"""Where the gate runs, and what that environment expects besides stdout.

* GitHub Actions (``GITHUB_ACTIONS=true``): a markdown summary appended to
  ``$GITHUB_STEP_SUMMARY``, ``::error``/``::warning`` annotations on stdout, and
  ``verdict`` and ``report`` (the JSON report's path) appended to ``$GITHUB_OUTPUT``.
* Cloud Build (a ``/workspace`` folder): the JSON report is written to
  ``/workspace/gate-report.json`` when ``--report-json`` is not given, so later
  steps can read it.

Without ``--report-json`` on GitHub, the report goes to ``$RUNNER_TEMP`` (or the
working directory) so the ``report`` output always names a real file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from gate.model import MultiResult, RunResult
from gate.report.github import annotations_any, summary_any

REPORT_NAME = "gate-report.json"


def on_github(env: Mapping[str, str]) -> bool:
    """True inside a GitHub Actions job."""
    return env.get("GITHUB_ACTIONS") == "true"


def default_report_path(
    env: Mapping[str, str], workspace: Path = Path("/workspace")
) -> Path | None:
    """Where the JSON report goes when ``--report-json`` is not given, or ``None``."""
    if on_github(env):
        return Path(env.get("RUNNER_TEMP") or ".") / REPORT_NAME
    if workspace.is_dir() and os.access(workspace, os.W_OK):
        return workspace / REPORT_NAME
    return None


def append_to(env: Mapping[str, str], variable: str, text: str) -> str | None:
    """Append ``text`` to the file ``$variable`` names; what went wrong, if anything."""
    path = env.get(variable)
    if not path:
        return None
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        return f"cannot write ${variable} ({path}: {exc.strerror or exc})"
    return None


def publish_github(
    result: RunResult | MultiResult,
    report: Path | None,
    env: Mapping[str, str],
    redact: Callable[[str], str],
) -> tuple[list[str], list[str]]:
    """Write the step summary and outputs (through ``redact``).

    Returns the annotation lines, and a line for each file that could not be
    written: a missing summary is worth a warning, never a changed verdict.
    """
    problems = [append_to(env, "GITHUB_STEP_SUMMARY", redact(summary_any(result)))]
    outputs = f"verdict={result.verdict}\n"
    if report is not None:
        # A delimiter form, so that any path is safe as a value.
        marker = f"gate_{uuid.uuid4().hex}"
        outputs += f"report<<{marker}\n{report.resolve()}\n{marker}\n"
    problems.append(append_to(env, "GITHUB_OUTPUT", redact(outputs)))
    return annotations_any(result), [p for p in problems if p is not None]
