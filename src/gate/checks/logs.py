"""``logs.errors``: group a revision's ERROR entries and judge them against a threshold.

Entries are grouped by a fingerprint: the message with UUIDs, hex ids and
numbers masked, so "timeout after 5012 ms on conn 7f3a9c2e11" and "timeout
after 498 ms on conn 0b12ffe901" count as one problem. A group is marked
``caused_by_gate`` when any of its entries carries the run's trace id, i.e. it
was logged while serving one of the gate's own probes. ``--ignore-log REGEX``
drops known noise before counting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gate.cloud.model import LogFetch, LogRecord
from gate.model import CheckId, CheckResult, LogGroupBlock, LogsBlock, skipped, utc_text

CHECK_ID: CheckId = "logs.errors"
_SAMPLE = 300
_SHOWN_GROUPS = 3
_MASKS = (
    (
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
        "<uuid>",
    ),
    (
        re.compile(
            r"\b(?:0x)?[0-9a-f]*\d[0-9a-f]*[a-f][0-9a-f]*\b|\b(?:0x)?[0-9a-f]*[a-f][0-9a-f]*\d[0-9a-f]*\b",
            re.I,
        ),
        "<hex>",
    ),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
)
_SEVERITY_RANK = ("ERROR", "CRITICAL", "ALERT", "EMERGENCY")


def fingerprint(message: str) -> str:
    """The message with ids and numbers masked, first line only, whitespace folded."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    for pattern, mask in _MASKS:
        first = pattern.sub(mask, first)
    return " ".join(first.split())[:_SAMPLE]


@dataclass(frozen=True)
class LogGroup:
    """Entries sharing one fingerprint."""

    fingerprint: str
    count: int
    severity: str
    first: datetime
    sample: str
    caused_by_gate: bool

    def as_dict(self) -> LogGroupBlock:
        """JSON form for the report's ``logs`` block."""
        return {
            "fingerprint": self.fingerprint,
            "count": self.count,
            "severity": self.severity,
            "first": utc_text(self.first),
            "sample": self.sample,
            "caused_by_gate": self.caused_by_gate,
        }


def _rank(severity: str) -> int:
    return _SEVERITY_RANK.index(severity) if severity in _SEVERITY_RANK else -1


def is_ignored(entry: LogRecord, ignore: Sequence[re.Pattern[str]]) -> bool:
    """True for known noise dropped by ``--ignore-log``."""
    return any(pattern.search(entry.message) for pattern in ignore)


def from_gate(entry: LogRecord, trace_id: str | None) -> bool:
    """True when the entry was logged while serving one of this run's probes."""
    return bool(trace_id) and entry.trace.endswith(f"/{trace_id}")


def group_entries(
    entries: Sequence[LogRecord], trace_id: str | None, ignore: Sequence[re.Pattern[str]]
) -> tuple[list[LogGroup], int]:
    """Group entries by fingerprint, largest first; also return how many were ignored."""
    groups: dict[str, list[LogRecord]] = {}
    ignored = 0
    for entry in entries:
        if is_ignored(entry, ignore):
            ignored += 1
            continue
        groups.setdefault(fingerprint(entry.message), []).append(entry)
    result = [
        LogGroup(
            fingerprint=key,
            count=len(members),
            severity=max((m.severity for m in members), key=_rank),
            first=min(m.timestamp for m in members),
            sample=members[0].message[:_SAMPLE],
            caused_by_gate=any(from_gate(m, trace_id) for m in members),
        )
        for key, members in groups.items()
    ]
    result.sort(key=lambda g: (-g.count, g.first))
    return result, ignored


def judge_logs(
    data: LogFetch | None,
    trace_id: str | None,
    ignore: Sequence[re.Pattern[str]],
    max_errors: int,
    skip_reason: str | None = None,
) -> tuple[CheckResult, LogsBlock | None]:
    """The ``logs.errors`` result and the report's ``logs`` block."""
    if data is None:
        return skipped(CHECK_ID, skip_reason or "not run"), None
    groups, ignored = group_entries(data.entries, trace_id, ignore)
    counted = sum(g.count for g in groups)
    block: LogsBlock = {
        "filter": data.filter,
        "count": counted,
        "ignored": ignored,
        "calls": data.calls,
        "settle_s": data.settle_s,
        "truncated": data.truncated,
        "groups": [g.as_dict() for g in groups],
    }
    evidence = {"filter": data.filter, "calls": data.calls, "groups": block["groups"][:10]}
    if counted <= max_errors:
        noise = f", {ignored} ignored" if ignored else ""
        return (
            CheckResult(
                CHECK_ID,
                "pass",
                f"{counted} ERROR entries for {data.revision} (allowed {max_errors}{noise}; "
                f"{data.calls} list calls over {data.settle_s:g} s)",
                data.duration_ms,
                attempts=data.calls,
                evidence=evidence,
            ),
            block,
        )
    shown = "; ".join(
        f"{g.count} x {g.severity}{' [gate probe]' * g.caused_by_gate}: {g.sample[:120]!r}"
        for g in groups[:_SHOWN_GROUPS]
    )
    ours = sum(g.count for g in groups if g.caused_by_gate)
    hint = (
        f"{ours} of them were logged while serving the gate's own probes (trace {trace_id}): "
        "read those entries first"
        if ours
        else "none carries the gate's trace id: they come from other traffic to this revision"
    )
    return (
        CheckResult(
            CHECK_ID,
            "fail",
            f"{counted} ERROR entries in {len(groups)} groups for {data.revision} "
            f"(allowed {max_errors}): {shown}",
            data.duration_ms,
            attempts=data.calls,
            diagnosis="log_errors_found",
            hint=hint + "; drop known noise with --ignore-log REGEX",
            evidence=evidence,
        ),
        block,
    )
