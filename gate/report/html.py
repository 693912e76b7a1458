"""The HTML report (``--report-html PATH``): one self-contained page to look at, not read.

Inline CSS and inline SVG only: the file opens from a CI artifact or an e-mail with no
network, and holds no script. It shows the verdict and every check with its evidence
(collapsed), a waterfall of each probe's phases (DNS, the TCP connection, TLS and the
upgrade together, as websockets makes them one call, or the HTTP answer, then the first
message), for a canary one chart per step and per metric (candidate against the comparison
side, with the threshold) and the candidate's share of traffic over the steps, and the log
groups. Every text is escaped; the result it renders is already redacted
(:mod:`gate.cli.output`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from gate.model import CheckResult, MultiResult, RunResult, StepBlock

_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "warn": "#9a6700", "skip": "#6e7781",
            "error": "#cf222e", "inconclusive": "#9a6700"}  # fmt: skip
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1f2328;max-width:72rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #d0d7de;
text-align:left;vertical-align:top}.status{font-weight:600}pre{white-space:pre-wrap;font-size:12px}
svg text{font:11px system-ui,sans-serif}.charts{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0}figcaption{font-size:12px;color:#57606a}
"""
_BAR_W, _CHART_H = 120, 140


def _status(status: str) -> str:
    return f'<span class="status" style="color:{_COLOURS[status]}">{escape(status.upper())}</span>'


def _check_rows(checks: Sequence[CheckResult]) -> str:
    rows = []
    for check in checks:
        detail = f"{check.diagnosis}: " if check.diagnosis else ""
        hint = f"<br><em>hint: {escape(check.hint)}</em>" if check.hint else ""
        evidence = escape(json.dumps(dict(check.evidence), indent=2, default=str))
        rows.append(
            f"<tr><td>{_status(check.status)}</td><td><code>{escape(check.id)}</code></td>"
            f"<td>{check.duration_ms:.0f} ms</td><td>{escape(detail + check.summary)}{hint}"
            f"<details><summary>evidence</summary><pre>{evidence}</pre></details></td></tr>"
        )
    return "<table><tr><th></th><th>check</th><th>time</th><th>summary</th></tr>" + "".join(
        rows
    ) + "</table>"  # fmt: skip


def _phases(check: CheckResult) -> list[tuple[str, float, float]]:
    """A probe's phases as (name, start ms, end ms), from its attempts' evidence."""
    attempts = check.evidence.get("attempts")
    if not isinstance(attempts, list):
        return []
    found: list[tuple[str, float, float]] = []
    for attempt in attempts:
        if not isinstance(attempt, dict):
            continue
        start = float(attempt.get("started_ms") or 0.0)
        end = start + float(attempt.get("duration_ms") or 0.0)
        connect = attempt.get("connect_ms")
        middle = start + float(connect) if isinstance(connect, int | float) else start
        dns = attempt.get("dns_ms")
        if isinstance(dns, int | float):
            found.append(("DNS", start, start + float(dns)))
            start += float(dns)
        found.append(("TCP connect", start, middle))
        answer = "TLS + upgrade" if check.id.startswith("ws.") else "answer"
        found.append((answer, middle, end))
    if check.id == "ws.first_message" and found:
        end = found[-1][2]
        found.append(("first message", end, end + check.duration_ms))
    return found


def waterfall(checks: Sequence[CheckResult]) -> str:
    """One row per probe, its phases as bars on a shared time axis."""
    rows = [(c.id, _phases(c)) for c in checks]
    rows = [(name, phases) for name, phases in rows if phases]
    if not rows:
        return ""
    longest = max(end for _name, phases in rows for _p, _s, end in phases) or 1.0
    width, left, row_h = 720, 140, 22
    shades = {"DNS": "#bf8700", "TCP connect": "#8250df", "TLS + upgrade": "#0969da",
              "answer": "#0969da", "first message": "#1a7f37"}  # fmt: skip
    parts = [f'<svg class="waterfall" width="{width}" height="{row_h * len(rows) + 24}" '
             f'role="img" aria-label="probe phases">']  # fmt: skip
    for index, (name, phases) in enumerate(rows):
        y = index * row_h + 4
        parts.append(f'<text x="0" y="{y + 12}">{escape(name)}</text>')
        for phase, start, end in phases:
            x = left + (width - left - 10) * start / longest
            w = max(1.0, (width - left - 10) * (end - start) / longest)
            title = f"{escape(phase)}: {end - start:.1f} ms"
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="14" '
                f'fill="{shades[phase]}"><title>{title}</title></rect>'
            )
    bottom = row_h * len(rows) + 18
    parts.append(f'<text x="{left}" y="{bottom}">0 ms</text>'
                 f'<text x="{width - 60}" y="{bottom}">{longest:.0f} ms</text>')  # fmt: skip
    parts.append("</svg>")
    legend = ", ".join(f'<span style="color:{c}">■</span> {p}' for p, c in shades.items()
                       if p != "answer")  # fmt: skip
    return "<h2>Probe phases</h2>" + "".join(parts) + f"<p>{legend}</p>"


def _bars(title: str, values: Sequence[tuple[str, float | None]], threshold: float | None,
          unit: str) -> str:  # fmt: skip
    """A small bar chart: one bar per side, and the threshold as a dashed line."""
    known = [v for _label, v in values if v is not None]
    top = max([*known, threshold or 0.0, 1e-9]) * 1.2
    inner = _CHART_H - 30
    parts = [f'<figure class="metric"><svg width="{_BAR_W * len(values) + 40}" '
             f'height="{_CHART_H}" role="img" aria-label="{escape(title)}">']  # fmt: skip
    for index, (label, value) in enumerate(values):
        x = 20 + index * _BAR_W
        height = 0.0 if value is None else inner * value / top
        fill = "#cf222e" if index == 0 else "#6e7781"
        shown = "no data" if value is None else f"{value:.3g}{unit}"
        parts.append(
            f'<rect x="{x}" y="{10 + inner - height:.1f}" width="{_BAR_W - 30}" '
            f'height="{height:.1f}" fill="{fill}"></rect>'
            f'<text x="{x}" y="{_CHART_H - 6}">{escape(label)}: {escape(shown)}</text>'
        )
    if threshold is not None:
        y = 10 + inner - inner * threshold / top
        parts.append(f'<line x1="10" x2="{_BAR_W * len(values) + 30}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#9a6700" stroke-dasharray="4 3"></line>')  # fmt: skip
    parts.append(f"</svg><figcaption>{escape(title)}</figcaption></figure>")
    return "".join(parts)


def step_charts(step: StepBlock) -> list[str]:
    """One chart per metric of a step: 5xx ratio and p95, candidate against the other side."""
    metrics = step["metrics"]
    if metrics is None:
        return []
    mine, theirs = metrics["candidate"], metrics["stable"]
    limits = metrics.get("limits", {})
    rate = limits.get("max_error_rate")
    ratio = limits.get("max_latency_ratio")
    p95_limit = ratio * theirs["p95_ms"] if ratio and theirs["p95_ms"] else None

    def percent(value: float | None) -> float | None:
        return None if value is None else value * 100

    own = [
        _bars(f"step {step['name']}: {u['name']} per request ({u['direction']} fails)",
              [("candidate", u["candidate_rate"]), ("stable", u["stable_rate"])],
              u["threshold"] * (u["stable_rate"] or 0.0) if u["relative"] else u["threshold"],
              "")
        for u in metrics.get("user", [])
    ]  # fmt: skip
    return [
        *own,
        _bars(f"step {step['name']}: 5xx ratio (threshold --max-error-rate)",
              [("candidate", percent(mine["error_ratio"])),
               ("stable", percent(theirs["error_ratio"]))],
              percent(rate) if isinstance(rate, int | float) else None, " %"),
        _bars(f"step {step['name']}: p95 latency (threshold --max-latency-ratio x stable)",
              [("candidate", mine["p95_ms"]), ("stable", theirs["p95_ms"])], p95_limit, " ms"),
    ]  # fmt: skip


def share_chart(steps: Sequence[StepBlock]) -> str:
    """The candidate's share of traffic over the steps (at least one), as a step line."""
    width, height, pad = 60 * len(steps) + 80, 140, 30
    points = []
    for index, step in enumerate(steps):
        x = pad + index * 60
        y = pad + (height - 2 * pad) * (1 - step["percent"] / 100)
        points.append((x, y, step))
    line = " ".join(f"{x},{y:.1f} {x + 60},{y:.1f}" for x, y, _step in points)
    marks = "".join(
        f'<circle cx="{x}" cy="{y:.1f}" r="4" fill="{_COLOURS[s["verdict"]]}">'
        f"<title>{escape(s['name'])}: {s['percent']}% ({s['verdict']})</title></circle>"
        f'<text x="{x}" y="{height - 8}">{escape(s["name"])}</text>'
        for x, y, s in points
    )
    return (
        "<h2>Candidate's share of traffic</h2>"
        f'<svg class="share" width="{width}" height="{height}" role="img" '
        f'aria-label="traffic share"><polyline points="{line}" fill="none" stroke="#0969da" '
        f'stroke-width="2"></polyline>{marks}</svg>'
    )


def _logs(result: RunResult) -> str:
    if result.logs is None or not result.logs["groups"]:
        return ""
    rows = "".join(
        f"<tr><td>{g['count']}</td><td>{escape(g['severity'])}</td><td>{escape(g['first'])}</td>"
        f"<td>{escape(g['kind'])}</td><td><code>{escape(g['sample'][:300])}</code></td></tr>"
        for g in result.logs["groups"]
    )
    return ("<h2>Cloud Logging</h2><table><tr><th>count</th><th>severity</th><th>first</th>"
            f"<th>kind</th><th>sample</th></tr>{rows}</table>")  # fmt: skip


def _section(result: RunResult, title: str) -> str:
    where = result.target.get("revision") or result.target.get("url") or ""
    charts = [chart for step in result.steps for chart in step_charts(step)]
    canary = ""
    if result.steps:
        rows = "".join(
            f"<tr><td>{_status(s['verdict'])}</td><td>{escape(s['name'])}</td>"
            f"<td>{escape((s['diagnosis'] or '') + ' ' + s['summary'])}</td></tr>"
            for s in result.steps
        )
        head = "<tr><th></th><th>step</th><th>what decided it (each test, its p-value)</th></tr>"
        table = f"<h2>Canary steps</h2><table>{head}{rows}</table>"
        drawn = f'<h2>Canary metrics</h2><div class="charts">{"".join(charts)}</div>'
        canary = share_chart(result.steps) + table + drawn
    error = f"<p><strong>error:</strong> {escape(result.error)}</p>" if result.error else ""
    return (
        f"<h1>{escape(title)}: {_status(result.verdict)} · {escape(str(where))}</h1>"
        f"<p>exit code {result.exit_code} · run <code>{escape(result.run_id[:12])}</code> · "
        f"{result.duration_ms / 1000:.2f} s</p>{error}"
        f"<h2>Checks</h2>{_check_rows(result.checks)}{waterfall(result.checks)}{canary}"
        f"{_logs(result)}"
    )


def render_html(result: RunResult | MultiResult) -> str:
    """The whole page."""
    if isinstance(result, RunResult):
        body = _section(result, "smoke-gate")
    else:
        body = "".join(_section(r, f"target {name}") for name, r in result.results)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>smoke-gate report</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>\n"
    )
