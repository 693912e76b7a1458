"""The human report: one line per check, then the verdict.

Each line shows status, check id, measured duration and a summary; a failure
adds its diagnosis code and a hint of where to look. Colour is used only when
the caller says so (a TTY without NO_COLOR); otherwise the text is plain and
free of control characters, as CI logs need.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace

from gate.config.settings import VerifyOptions
from gate.model import (
    ActionBlock,
    CheckResult,
    LogGroupBlock,
    LogsBlock,
    MultiResult,
    RunResult,
    StepBlock,
)
from gate.text import plural

_LABELS = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "skip": "SKIP", "error": "ERROR",
           "inconclusive": "INCONCLUSIVE"}  # fmt: skip
_SHOWN_GROUPS = 5
_COLOURS = {"pass": "32", "fail": "31", "warn": "33", "skip": "2", "error": "31",
            "inconclusive": "33"}  # fmt: skip


_ESCAPES = re.compile(r"\x1b\[[0-9;]*m")


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def _clean(text: str) -> str:
    """Drop control characters a target may have put in a summary."""
    return "".join(ch if ch.isprintable() or ch == " " else "?" for ch in text)


def _duration(ms: float) -> str:
    if ms < 10:
        return f"{ms:.1f} ms"
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


WIDTH = 100
"""The report's width when stdout is no terminal (a CI log, a file)."""
_INDENT = 6 + 18 + 1 + 8 + 2  # where a check's summary starts: its continuation lines too
_NARROWEST = 30


def wrap(head: str, text: str, width: int = WIDTH, indent: int | None = None) -> list[str]:
    """``head`` then ``text``, wrapped at word boundaries to ``width`` columns; continuation
    lines start at ``indent`` (default: under the text's first word), the hanging indent of
    the hints. ``head`` may hold colour codes: only what shows counts."""
    shown = len(_ESCAPES.sub("", head))
    hang = shown if indent is None else indent
    room = width - max(shown, hang)
    if room < _NARROWEST:  # a narrow terminal: the text goes under the head, indented less
        parts = textwrap.wrap(text, max(_NARROWEST, width - 4), break_on_hyphens=False)
        return [head.rstrip(), *("    " + part for part in parts)]
    parts = textwrap.wrap(text, room, break_on_hyphens=False) or [""]
    return [head + parts[0], *(" " * hang + part for part in parts[1:])]


def check_lines(check: CheckResult, colour: bool, width: int = WIDTH) -> list[str]:
    """The line (and, for a failure, the hint line) of one check, wrapped to ``width``."""
    label = _paint(_LABELS[check.status], _COLOURS[check.status], colour)
    timing = "" if check.status == "skip" else _duration(check.duration_ms)
    summary = _clean(check.summary)
    if check.diagnosis:
        summary = f"{check.diagnosis}: {summary}"
    lines = wrap(f"{label}  {check.id:<18} {timing:>8}  ", summary, width, _INDENT)
    if check.hint:
        lines += wrap(f"{'':{_INDENT}}hint: ", _clean(check.hint), width, _INDENT + 6)
    return lines


def step_lines(step: StepBlock, colour: bool = False, width: int = WIDTH) -> list[str]:
    """A canary step (or the watch), laid out like a check: verdict, share, time, what decided
    it, and for a failed step the hint of where to look."""
    label = _paint(_LABELS[step["verdict"]], _COLOURS[step["verdict"]], colour)
    name = f"step {step['name']}" if step["name"] != "watch" else "watch"
    summary = _clean(step["summary"])
    if step["diagnosis"]:
        summary = f"{step['diagnosis']}: {summary}"
    head = f"{label}  {name:<18} {_duration(step['duration_ms']):>8}  "
    lines = wrap(head, summary, width, _INDENT)
    hint = step.get("hint")
    if hint:
        lines += wrap(f"{'':{_INDENT}}hint: ", _clean(hint), width, _INDENT + 6)
    return lines


def _log_lines(logs: LogsBlock, width: int = WIDTH) -> list[str]:
    groups = logs.get("groups", [])
    counted = sum(g["counted"] for g in groups)
    lines = wrap(
        "logs: ",
        f"{plural(logs['count'], 'error entry', 'error entries')} in "
        f"{plural(counted, 'group')} ({logs['expected']} expected, {logs['ignored']} ignored, "
        f"{plural(logs['calls'], 'list call')})",
        width,
        2,
    )
    for group in groups[:_SHOWN_GROUPS]:
        head = f"  {group['count']:>4} x {group['severity']:<8} "
        text = f"first {group['first']}{group_tags(group)}  {_clean(group['sample'])[:160]}"
        lines += wrap(head, text, width)
    if len(groups) > _SHOWN_GROUPS:
        more = len(groups) - _SHOWN_GROUPS
        lines.append(f"  ... {plural(more, 'more group')} in the JSON report")
    return lines


def group_tags(group: LogGroupBlock) -> str:
    """The markers of a log group: who wrote it, and why it does not count when it does not."""
    tags: list[str] = [group["kind"]] if group["kind"] != "app" else []
    if group["caused_by_gate"]:
        tags.append("gate probe")
    if group["expected"]:
        tags.append("expected: the gate's refused probes")
    elif not group["counted"]:
        tags.append("context, not counted")
    return "".join(f" [{tag}]" for tag in tags)


def _span(seconds: float) -> str:
    """A length of time as people say it: ``45 s``, ``4 min 15 s``."""
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.3g} s" if seconds < 10 else f"{whole} s"
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def canary_plan(options: VerifyOptions) -> str:
    """The rollout ahead, printed before it starts: each step's real length, and the whole.

    A step lasts its bake, then (with metrics) the wait until Cloud Monitoring
    shows its whole window: the window's end rounded up to a period, the
    visibility delay, and one more read to see that the counts settled.
    """
    metrics = options.metrics_period + options.metrics_delay + options.metrics_settle
    if not options.metrics:
        metrics = 0.0
    wait = f" + {_span(metrics)} waiting for its metrics" if metrics else ""
    step = options.step_bake + metrics
    shares = ", ".join(f"{p}%" for p in options.canary) or "no step"
    parts = [f"canary plan: {shares}; each step {_span(options.step_bake)} of bake{wait} "
             f"(about {_span(step)})"]  # fmt: skip
    total = step * len(options.canary)
    if options.promote:
        parts.append("then promote")
    if options.watch:
        parts.append(f"then watch {_span(options.watch)}{wait}")
        total += options.watch + metrics
    return f"{'; '.join(parts)}; about {_span(total)} in all"


def hold_plan(hold_s: float, interval_s: float, deadline_s: float) -> str:
    """The ``--hold`` plan, printed before the run: the held socket counts toward the deadline."""
    return (
        f"hold plan: one more socket stays open {_span(hold_s)}, pinging every "
        f"{_span(interval_s)}, beside the other checks; the run takes at least that long, "
        f"within --deadline {_span(deadline_s)}"
    )


def action_line(action: ActionBlock) -> str:
    """One line for a traffic action: kind, from -> to, status, verification."""
    kind = action.get("kind", "none")
    if kind == "none":
        return f"action: none ({action.get('reason', '')})"
    verified = action.get("verified")
    check = "" if verified is None else (", verified healthy" if verified else ", NOT healthy")
    reason = f" ({action['reason']})" if action.get("reason") else ""
    return (
        f"action: {kind} {action.get('from')} -> {action.get('to')}: "
        f"{action.get('status')}{check}{reason}"
    )


def render_any(result: RunResult | MultiResult, colour: bool = False, width: int = WIDTH) -> str:
    """One report, or a section per target and the overall verdict, ``width`` columns wide."""
    if isinstance(result, RunResult):
        return render_text(result, colour, width=width)
    # Each target's header names the config file, as a single target's does.
    parts = [
        f"=== target {name}\n{render_text(replace(r, context=result.context), colour, True, width)}"
        for name, r in result.results
    ]
    worst = ", ".join(f"{name} {r.verdict.upper()}" for name, r in result.results)
    verdict = _paint(
        result.verdict.upper(), _COLOURS["pass" if result.verdict == "pass" else "fail"], colour
    )
    notices = "".join(
        "\n".join(wrap(f"warning {w.code}: ", _clean(w.message), width, 2)) + "\n"
        for w in result.notices
    )
    parts.append(
        f"{notices}=== overall: {verdict} (exit {result.exit_code}) · {worst} · "
        f"{_duration(result.duration_ms)}\n"
    )
    return "\n".join(parts)


def tally(result: RunResult) -> str:
    """The verdict line's counts: the checks', and the canary steps' (a failed step counts
    like a failed check)."""
    counts = {s: sum(c.status == s for c in result.checks) for s in _LABELS}
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    steps = {s: sum(step["verdict"] == s for step in result.steps) for s in _LABELS}
    named = {"pass": "passed", "fail": "failed", "inconclusive": "inconclusive", "error": "error"}
    parts += [f"{plural(n, 'step')} {named.get(s, s)}" for s, n in steps.items() if n]
    return ", ".join(parts)


def render_text(
    result: RunResult, colour: bool = False, with_error: bool = False, width: int = WIDTH
) -> str:
    """The whole human report, no line wider than ``width`` (long summaries and hints are
    wrapped at word boundaries, under their first word).

    A single run's error is not in it: the command prints it once, on stderr, after the
    report (:func:`gate.cli.output.finish`). ``with_error`` keeps it, for the sections of a
    ``[[targets]]`` report, where each target's error belongs to its own section.
    """
    target = result.target
    config = f" · config {result.context.config}" if result.context.config else ""
    lines = wrap("smoke-gate · ", f"{target.get('url')} · run {result.run_id[:12]}{config}", width)
    for check in result.checks:
        lines.extend(check_lines(check, colour, width))
    for warning in result.warnings:
        lines += wrap(f"warning {warning.code}: ", _clean(warning.message), width, 2)
    if result.revision_config is not None:
        for finding in result.revision_config["findings"]:
            if finding["severity"] == "note":
                text = f"{finding['field']} = {finding['value']}: {finding['effect']}; fix: "
                lines += wrap(f"note {finding['code']}: ", _clean(text + finding["fix"]), width, 2)
    if result.logs is not None:
        lines.extend(_log_lines(result.logs, width))
    for step in result.steps:
        lines.extend(step_lines(step, colour, width))
    if result.action is not None:
        lines += wrap("action: ", action_line(result.action).removeprefix("action: "), width, 2)
    if with_error and result.error is not None:
        lines += wrap("error: ", _clean(result.error), width, 2)
    verdict = _paint(
        result.verdict.upper(), _COLOURS["pass" if result.verdict == "pass" else "fail"], colour
    )
    lines += wrap(
        f"verdict: {verdict} ",
        f"(exit {result.exit_code}) · {tally(result)} · {_duration(result.duration_ms)}",
        width,
        2,
    )
    return "\n".join(lines) + "\n"
