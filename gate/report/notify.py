"""What ``--notify`` posts: a Slack message, a Google Chat message, or the JSON report.

Pure functions of a (redacted) result. Each message says, per target: the
verdict and what was gated (service and revision, or the URL), the failing
checks with their diagnosis, the log group the gate's own probes caused (the
error behind a failed check, found by the run's trace id), the traffic action,
and what the gate could not do. Google Chat messages are threaded per service
and revision (``threadKey``), so a release's verify, its canary steps and its
rollback read as one conversation.
"""

from __future__ import annotations

import re
from typing import Any

from gate.model import MultiResult, Result, RunResult
from gate.report.json_report import multi_dict, report_dict
from gate.report.text import action_line
from gate.text import excerpt, one_line

_SUMMARY = 200
_THREAD_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def wanted(result: Result, on: str) -> bool:
    """True when ``--notify-on`` (``fail`` or ``always``) asks for a message."""
    return on == "always" or result.verdict != "pass"


def _subject(result: RunResult) -> str:
    target = result.target
    if target.get("service"):
        revision = target.get("revision")
        return f"{target['service']} {revision}" if revision else str(target["service"])
    return str(target.get("url", "?"))


def _lines(result: RunResult, bullet: str, code: str) -> list[str]:
    """The body of one target's message, in the chat's own markup (``code`` quotes ids)."""
    lines = []
    for check in result.checks:
        if check.status == "fail":
            summary = excerpt(one_line(check.summary), _SUMMARY)
            lines.append(f"{bullet} {code}{check.id}{code} {check.diagnosis}: {summary}")
    groups = result.logs["groups"] if result.logs is not None else []
    caused = [g for g in groups if g["caused_by_gate"]]
    if caused:
        group = caused[0]
        sample = excerpt(one_line(group["sample"]), _SUMMARY)
        lines.append(f"{bullet} logs: {group['count']} x {group['severity']} {sample}")
    if result.action is not None and result.action.get("kind", "none") != "none":
        lines.append(f"{bullet} {one_line(action_line(result.action))}")
    if result.error is not None:
        lines.append(f"{bullet} error: {excerpt(one_line(result.error), _SUMMARY)}")
    return lines


def _runs(result: Result) -> list[tuple[str | None, RunResult]]:
    if isinstance(result, MultiResult):
        return [(name, r) for name, r in result.results]
    return [(None, result)]


def _headline(name: str | None, run: RunResult) -> str:
    where = f"{name}: " if name else ""
    return f"smoke-gate {run.verdict.upper()}: {where}{_subject(run)}"


def slack_message(result: Result) -> dict[str, Any]:
    """A Slack incoming-webhook message: ``text`` (the fallback) and ``blocks``."""
    blocks: list[dict[str, Any]] = []
    for name, run in _runs(result):
        blocks.append(
            {"type": "header", "text": {"type": "plain_text", "text": _headline(name, run)}}
        )
        body = "\n".join(_lines(run, "•", "`")) or "every check passed"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body}})
    context = f"run {result.run_id[:12]} · exit {int(result.exit_code)}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    first = _runs(result)[0]
    text = (
        _headline(*first)
        if isinstance(result, RunResult)
        else (f"smoke-gate {result.verdict.upper()}: {len(result.results)} targets")
    )
    return {"text": text, "blocks": blocks}


def thread_key(run: RunResult) -> str:
    """The Chat thread of a target: one per service and revision (or URL)."""
    return "smoke-gate-" + _THREAD_UNSAFE.sub("-", _subject(run)).strip("-")[:100]


def chat_messages(result: Result) -> list[tuple[str, dict[str, Any]]]:
    """Google Chat messages, one per target, each with its ``threadKey``."""
    messages = []
    for name, run in _runs(result):
        lines = [f"*{_headline(name, run)}*", *_lines(run, "•", "`")]
        lines.append(f"run {run.run_id[:12]} · exit {int(run.exit_code)}")
        key = thread_key(run)
        messages.append((key, {"text": "\n".join(lines), "thread": {"threadKey": key}}))
    return messages


def json_payload(result: Result) -> dict[str, object]:
    """The JSON report, as ``--report-json`` writes it."""
    return multi_dict(result) if isinstance(result, MultiResult) else report_dict(result)
