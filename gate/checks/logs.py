"""``logs.errors``: group what went wrong in a revision and judge it against a threshold.

The entries are the revision's ERROR-or-worse entries, Cloud Run's request-log
refusals at WARNING (capacity, IAM), its system-log lines, and container-log
lines of any severity shaped like an uncaught-exception report. Those reports
are first folded into one entry each, of kind ``uncaught``
(:mod:`gate.checks.uncaught`), grouped by exception type and innermost frame.
The others are grouped by a fingerprint: the message with UUIDs, hex ids and numbers masked, so
"timeout after 5012 ms on conn 7f3a9c2e11" and "timeout after 498 ms on conn
0b12ffe901" count as one problem. A group is marked ``caused_by_gate`` when one
of its entries carries the run's trace id (logged while serving one of the
gate's own probes), and ``expected`` when its entries carry the trace id of a
negative-credential session: the app refusing a forged token is the point of
that session, so such entries never count. System-log lines below WARNING
(an instance starting) are context and do not count either. Each group has a
``kind``, read from Cloud Run's own wording. ``--ignore-log REGEX`` drops known
noise before counting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gate.checks.uncaught import fold
from gate.cloud.model import (
    AUDIT_LOG,
    REQUEST_LOG,
    SYSTEM_LOG,
    LogFetch,
    LogRecord,
    severity_rank,
)
from gate.model import (
    CheckId,
    CheckResult,
    LogGroupBlock,
    LogKind,
    LogsBlock,
    skipped,
    utc_text,
)
from gate.text import plural, were

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
# Cloud Run's wording in its request and system logs, and what it means.
_PLATFORM_WORDS: tuple[tuple[str, LogKind], ...] = (
    ("no available instance", "capacity"),
    ("not authenticated", "iam"),
    ("not authorized", "iam"),
    ("maximum request timeout", "timeout"),
    ("connection to the instance had an error", "crash"),
    ("memory limit", "crash"),
    ("probe failed", "startup"),
    ("failed to start", "startup"),
    ("was not started", "startup"),
)
_STATUS_KINDS: dict[int, LogKind] = {429: "capacity", 401: "iam", 403: "iam", 504: "timeout",
                                     503: "crash"}  # fmt: skip


def fingerprint(message: str) -> str:
    """The message with ids and numbers masked, first line only, whitespace folded."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    for pattern, mask in _MASKS:
        first = pattern.sub(mask, first)
    return " ".join(first.split())[:_SAMPLE]


def kind_of(entry: LogRecord) -> LogKind:
    """Who wrote the entry and about what: the app, or Cloud Run (by its own wording)."""
    if entry.kind is not None:
        return entry.kind
    if entry.log not in (REQUEST_LOG, SYSTEM_LOG, AUDIT_LOG):
        return "app"
    text = entry.message.lower()
    word = next((kind for phrase, kind in _PLATFORM_WORDS if phrase in text), None)
    if word is not None:
        return word
    return _STATUS_KINDS.get(entry.status or 0, "platform")


@dataclass(frozen=True)
class LogGroup:
    """Entries sharing one fingerprint (and the same expectation)."""

    fingerprint: str
    count: int
    severity: str
    first: datetime
    sample: str
    caused_by_gate: bool
    kind: LogKind
    expected: bool
    counted: bool

    def as_dict(self) -> LogGroupBlock:
        """JSON form for the report's ``logs`` block."""
        return {
            "fingerprint": self.fingerprint,
            "count": self.count,
            "severity": self.severity,
            "first": utc_text(self.first),
            "sample": self.sample,
            "caused_by_gate": self.caused_by_gate,
            "kind": self.kind,
            "expected": self.expected,
            "counted": self.counted,
        }


def is_ignored(entry: LogRecord, ignore: Sequence[re.Pattern[str]]) -> bool:
    """True for known noise dropped by ``--ignore-log``."""
    return any(pattern.search(entry.message) for pattern in ignore)


def from_gate(entry: LogRecord, trace_id: str | None) -> bool:
    """True when the entry was logged while serving one of this run's probes."""
    return bool(trace_id) and entry.trace.endswith(f"/{trace_id}")


@dataclass(frozen=True)
class Expected:
    """What the gate caused knowing it would be refused: reported, never counted.

    ``traces``: the negative-credential sessions' traces (the app refusing a
    forged token is their point). ``iam_trace``: with ``--iam``, the run's own
    trace, whose IAM refusals the front end logged while the binding propagated
    and the gate retried.
    """

    traces: frozenset[str] = frozenset()
    iam_trace: str | None = None

    def covers(self, entry: LogRecord) -> bool:
        """True when the gate caused the entry and expected it."""
        trace = entry.trace.rpartition("/")[2]
        if trace in self.traces:
            return True
        return bool(self.iam_trace) and trace == self.iam_trace and kind_of(entry) == "iam"


NOTHING_EXPECTED = Expected()


def counts(entry: LogRecord, expected: Expected) -> bool:
    """True when the entry counts toward ``--max-log-errors``."""
    context = entry.log == SYSTEM_LOG and severity_rank(entry.severity) < severity_rank("WARNING")
    return not context and not expected.covers(entry)


def group_entries(
    entries: Sequence[LogRecord],
    trace_id: str | None,
    ignore: Sequence[re.Pattern[str]],
    expected: Expected = NOTHING_EXPECTED,
) -> tuple[list[LogGroup], int]:
    """Group entries by fingerprint, counted ones first, largest first; and how many ignored.

    Uncaught-exception reports are folded first, and grouped by their type and
    innermost frame instead of a fingerprint.
    """
    groups: dict[tuple[str, bool, bool], list[LogRecord]] = {}
    ignored = 0
    for entry in fold(entries):
        if is_ignored(entry, ignore):
            ignored += 1
            continue
        key = (entry.group or fingerprint(entry.message), expected.covers(entry),
               counts(entry, expected))  # fmt: skip
        groups.setdefault(key, []).append(entry)
    result = [
        LogGroup(
            fingerprint=text,
            count=len(members),
            severity=max((m.severity for m in members), key=severity_rank),
            first=min(m.timestamp for m in members),
            sample=members[0].message[:_SAMPLE],
            caused_by_gate=any(from_gate(m, trace_id) for m in members),
            kind=kind_of(members[0]),
            expected=foreseen,
            counted=counted,
        )
        for (text, foreseen, counted), members in groups.items()
    ]
    result.sort(key=lambda g: (not g.counted, -g.count, g.first))
    return result, ignored


def judge_logs(
    data: LogFetch | None,
    trace_id: str | None,
    ignore: Sequence[re.Pattern[str]],
    max_errors: int,
    skip_reason: str | None = None,
    expected: Expected = NOTHING_EXPECTED,
) -> tuple[CheckResult, LogsBlock | None]:
    """The ``logs.errors`` result and the report's ``logs`` block."""
    if data is None:
        return skipped(CHECK_ID, skip_reason or "not run"), None
    groups, ignored = group_entries(data.entries, trace_id, ignore, expected)
    counted = sum(g.count for g in groups if g.counted)
    foreseen = sum(g.count for g in groups if g.expected)
    block: LogsBlock = {
        "filter": data.filter,
        "count": counted,
        "expected": foreseen,
        "ignored": ignored,
        "calls": data.calls,
        "settle_s": data.settle_s,
        "truncated": data.truncated,
        "groups": [g.as_dict() for g in groups],
    }
    evidence = {"filter": data.filter, "calls": data.calls, "groups": block["groups"][:10]}
    noise = f", {ignored} ignored" if ignored else ""
    noise += f", {foreseen} expected (caused by the gate's own refused probes)" if foreseen else ""
    if counted <= max_errors:
        return (
            CheckResult(
                CHECK_ID,
                "pass",
                f"{plural(counted, 'error entry', 'error entries')} for {data.revision} "
                f"(allowed {max_errors}{noise}; {plural(data.calls, 'list call')} over "
                f"{data.settle_s:g} s)",
                data.duration_ms,
                attempts=data.calls,
                evidence=evidence,
            ),
            block,
        )
    bad = [g for g in groups if g.counted]
    shown = "; ".join(_shown(g) for g in bad[:_SHOWN_GROUPS])
    return (
        CheckResult(
            CHECK_ID,
            "fail",
            f"{plural(counted, 'error entry', 'error entries')} in {plural(len(bad), 'group')} "
            f"for {data.revision} "
            f"(allowed {max_errors}{noise}): {shown}",
            data.duration_ms,
            attempts=data.calls,
            diagnosis="log_errors_found",
            hint=_hint(bad, trace_id) + "; drop known noise with --ignore-log REGEX",
            evidence=evidence,
        ),
        block,
    )


def _shown(group: LogGroup) -> str:
    """One counted group in the summary: how many, how bad, what."""
    probe = " [gate probe]" * group.caused_by_gate
    if group.kind == "uncaught":
        where = group.fingerprint.partition(" at ")[2]
        return f"{group.count} x uncaught {group.sample[:120]} (at {where}){probe}"
    kind = f" [{group.kind}]" * (group.kind != "app")
    return f"{group.count} x {group.severity}{kind}{probe}: {group.sample[:120]!r}"


def _hint(bad: Sequence[LogGroup], trace_id: str | None) -> str:
    kinds = {g.kind for g in bad}
    if "startup" in kinds:
        return "Cloud Run's system log says the revision's container did not start: read it first"
    if "capacity" in kinds:
        return (
            "Cloud Run refused requests for lack of an instance: raise max instances or "
            "concurrency, or keep min instances warm"
        )
    ours = sum(g.count for g in bad if g.caused_by_gate)
    crashes = [g for g in bad if g.kind == "uncaught" and not g.caused_by_gate]
    if crashes and not ours:
        return (
            f"the revision's code raised {crashes[0].fingerprint} while serving other "
            "requests than the gate's (its container log, stdout or stderr, holds the whole "
            "stack): fix it or roll back"
        )
    if ours:
        return (
            f"{ours} of them {were(ours)} logged while serving the gate's own probes (trace "
            f"{trace_id}): read those entries first"
        )
    return "none carries the gate's trace id: they come from other traffic to this revision"
