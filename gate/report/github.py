"""GitHub Actions: a markdown job summary and workflow-command annotations.

Pure functions; :mod:`gate.report.ci` decides when to use them and where to write.
"""

from __future__ import annotations

from collections.abc import Sequence

from gate.model import MultiResult, RunResult, StepBlock
from gate.report.text import group_tags
from gate.text import plural

_ICONS = {"pass": "✅", "fail": "❌", "warn": "⚠️", "skip": "⏭️", "error": "🛑", "inconclusive": "❔"}


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def summary_markdown(result: RunResult) -> str:
    """The job summary: verdict, a table of checks, log groups, the traffic action."""
    target = result.target
    where = target.get("revision") or target.get("url")
    trace = f" · trace `{result.trace_id}`" if result.trace_id else ""
    lines = [
        f"## smoke-gate: {result.verdict.upper()} ({where})",
        "",
        f"Exit code {result.exit_code} · run `{result.run_id[:12]}` · "
        f"{result.duration_ms / 1000:.2f} s{trace}",
        "",
        "| | check | time | diagnosis | summary |",
        "| --- | --- | --- | --- | --- |",
    ]
    for check in result.checks:
        lines.append(
            f"| {_ICONS[check.status]} | `{check.id}` | {check.duration_ms:.0f} ms | "
            f"{check.diagnosis or ''} | {_cell(check.summary)} |"
        )
    hints: list[tuple[str, str | None]] = [(c.id, c.hint) for c in result.checks if c.hint]
    hints += [(f"step {s['name']}", s.get("hint")) for s in result.steps if s.get("hint")]
    if hints:
        lines += ["", "**Where to look**", ""]
        lines += [f"- `{name}`: {_cell(hint or '')}" for name, hint in hints]
    findings = result.revision_config["findings"] if result.revision_config else []
    if findings:
        lines += [
            "",
            "**Revision settings** (WebSockets on Cloud Run)",
            "",
            "| | code | setting | what users see | fix |",
            "| --- | --- | --- | --- | --- |",
        ]
        icon = {"failure": _ICONS["fail"], "warning": _ICONS["warn"], "note": "📝"}
        for finding in findings:
            lines.append(
                f"| {icon[finding['severity']]} | `{finding['code']}` | "
                f"`{finding['field']}` = {_cell(finding['value'])} | {_cell(finding['effect'])} "
                f"| `{_cell(finding['fix'])}` |"
            )  # fmt: skip
    if result.logs is not None and result.logs["groups"]:
        entries = plural(result.logs["count"], "error entry", "error entries")
        lines += ["", f"**Cloud Logging**: {entries} "
                  f"({result.logs['expected']} expected)", "",
                  "| count | severity | first | marks | sample |",
                  "| --- | --- | --- | --- | --- |"]  # fmt: skip
        for group in result.logs["groups"][:10]:
            lines.append(
                f"| {group['count']} | {group['severity']} | {group['first']} | "
                f"{_cell(group_tags(group))} | {_cell(group['sample'])[:200]} |"
            )
    if result.steps:
        lines += ["", "**Canary steps**", "", "| | step | time | rounds | diagnosis | summary |",
                  "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for step in result.steps:
            lines.append(
                f"| {_ICONS[step['verdict']]} | {step['name']} | "
                f"{step['duration_ms'] / 1000:.1f} s | {len(step['rounds'])} | "
                f"{step['diagnosis'] or ''} | {_cell(step['summary'])} |"
            )
    lines += mermaid_charts(result.steps)
    if result.action is not None:
        action = result.action
        verified = {True: ", verified healthy", False: ", NOT healthy", None: ""}[
            action.get("verified")
        ]
        lines += ["", f"**Traffic**: {action['kind']} {action.get('from') or ''} → "
                  f"{action.get('to') or ''}: {action['status']}{verified}"]  # fmt: skip
    if result.error:
        lines += ["", f"**Error**: {_cell(result.error)}"]
    return "\n".join(lines) + "\n"


def _values(values: list[float | None]) -> str:
    return "[" + ", ".join(f"{v:.4g}" if v is not None else "0" for v in values) + "]"


def mermaid_charts(steps: Sequence[StepBlock]) -> list[str]:
    """For a canary, one Mermaid ``xychart-beta`` per metric over the steps (the candidate as
    bars, the comparison side as a line), collapsed in a ``<details>``; the steps' table above
    is the fallback where Mermaid is not drawn."""
    judged = [s for s in steps if s["metrics"] is not None]
    if not judged:
        return []
    names = ", ".join(f'"{s["name"]}"' for s in judged)
    series: list[tuple[str, str, list[float | None], list[float | None]]] = [
        ("5xx ratio (%)", "5xx %",
         [_percent(s["metrics"]["candidate"]["error_ratio"]) for s in judged if s["metrics"]],
         [_percent(s["metrics"]["stable"]["error_ratio"]) for s in judged if s["metrics"]]),
        ("p95 latency (ms)", "ms",
         [s["metrics"]["candidate"]["p95_ms"] for s in judged if s["metrics"]],
         [s["metrics"]["stable"]["p95_ms"] for s in judged if s["metrics"]]),
    ]  # fmt: skip
    own = [{u["name"]: u for u in s["metrics"].get("user", [])} if s["metrics"] else {}
           for s in judged]  # fmt: skip
    for name in sorted({name for step in own for name in step}):
        rates = [step.get(name) for step in own]
        series.append((
            f"{name} per request", "per request",
            [r["candidate_rate"] if r else None for r in rates],
            [r["stable_rate"] if r else None for r in rates],
        ))  # fmt: skip
    lines = ["", "<details><summary>Canary metrics per step: charts (bars: candidate, line: "
             "stable)</summary>", ""]  # fmt: skip
    for title, unit, mine, theirs in series:
        top = max([v for v in (*mine, *theirs) if v is not None] or [1.0]) * 1.2 or 1.0
        lines += ["```mermaid", "xychart-beta", f'    title "{title}"', f"    x-axis [{names}]",
                  f'    y-axis "{unit}" 0 --> {top:.4g}', f"    bar {_values(mine)}",
                  f"    line {_values(theirs)}", "```", ""]  # fmt: skip
    return [*lines, "</details>"]


def _percent(value: float | None) -> float | None:
    return None if value is None else value * 100


def summary_any(result: RunResult | MultiResult) -> str:
    """The summary of one target, or of each target under the overall verdict."""
    if isinstance(result, RunResult):
        return summary_markdown(result)
    head = f"# smoke-gate: {result.verdict.upper()} across {len(result.results)} targets\n\n"
    return head + "\n".join(
        summary_markdown(r).replace("## smoke-gate:", f"## {name}:", 1)
        for name, r in result.results
    )


def annotations_any(result: RunResult | MultiResult) -> list[str]:
    """Annotations of one target, or of each target titled with its name."""
    if isinstance(result, RunResult):
        return annotation_lines(result)
    return [
        line.replace(" title=", f" title={_escape_property(name)} ", 1)
        for name, r in result.results
        for line in annotation_lines(r)
    ]


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation_lines(result: RunResult) -> list[str]:
    """``::error`` for each failure, ``::warning`` for each warning, as workflow commands."""
    lines = []
    for check in result.checks:
        if check.status == "fail":
            title = _escape_property(f"{check.id}: {check.diagnosis}")
            hint = f"\n{check.hint}" if check.hint else ""
            lines.append(f"::error title={title}::{_escape_data(check.summary + hint)}")
    for step in result.steps:
        if step["verdict"] == "fail":
            title = _escape_property(f"step {step['name']}: {step['diagnosis']}")
            hint = f"\n{step['hint']}" if step.get("hint") else ""
            lines.append(f"::error title={title}::{_escape_data(step['summary'] + hint)}")
    for warning in result.warnings:
        lines.append(
            f"::warning title={_escape_property(warning.code)}::{_escape_data(warning.message)}"
        )
    if result.error:
        lines.append(f"::error title=smoke-gate::{_escape_data(result.error)}")
    return lines
