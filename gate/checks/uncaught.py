"""Uncaught-exception reports in a revision's container logs, in every language Cloud Run runs.

On Cloud Run a line a container writes to stdout or stderr that is not JSON
has no severity (``DEFAULT``) and no trace ("Logs written to stdout or stderr
... do not have an associated log level", Cloud Run functions logging page).
That is how uvicorn, gunicorn, Node.js, a Go panic and Java's default handler
report the crash of a request, so a ``severity>=ERROR`` pull misses exactly the
errors users meet. Cloud Error Reporting finds them by their stack-trace shape
instead (its "formatting errors" page lists the formats); so does the gate:

* :data:`gate.stacks.LINE_PATTERN` is the RE2 expression of every line such a report is
  made of (headers, frames, exception lines, chaining lines). The Logging
  query selects container-log entries matching it, of any severity
  (:func:`gate.cloud.logs.scopes_filter`), so a chatty revision's other lines
  are never listed;
* :func:`fold` turns the selected entries into one record per report, whether
  a report arrived as one multi-line entry or as one entry per line (lines of
  the same instance, ``labels.instanceId``, less than ``JOIN_GAP_S`` apart are
  joined): the exception type and message to show, and a grouping key of the
  type and the innermost frame. Selected lines that belong to no report (a
  plain ``Error: retrying`` with no frame) are dropped unless their severity
  alone selected them.

Recognised: Python tracebacks (chained ones as one report), Java and Kotlin
(``Exception in thread ...`` or an exception line, ``at`` frames, ``Caused by``),
Node.js (``Error: ...`` with ``    at`` frames), Go (``panic:`` or ``fatal
error:`` with goroutine frames), Ruby (``file:line:in `m': message (Type)``),
PHP (``PHP Fatal error:  Uncaught ...``) and .NET (``Unhandled exception.``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from gate.cloud.model import CONTAINER_LOGS, LogRecord, severity_rank
from gate.stacks import EXCEPTION, FRAMES, HEADERS, LINE_PATTERN

JOIN_GAP_S = 1.0
"""Lines of one instance at most this far apart belong to one report."""

_CHAINING = re.compile(r"^(During handling of the above|The above exception was the direct)")

_LINE = re.compile(LINE_PATTERN)
_HEADER = {name: re.compile(f"^{pattern}$") for name, pattern in HEADERS.items()}
_EXCEPTION_LINE = re.compile(f"^{EXCEPTION}$")
_FRAME = {name: re.compile(f"^{pattern}$") for name, pattern in FRAMES.items()}
_PY_FRAME = re.compile(r'^\s+File "?(?P<file>[^",]+)"?, line (?P<line>\d+)(?:, in (?P<func>.+))?$')
_JAVA_THREAD = re.compile(r'^Exception in thread "[^"]*" (?P<rest>.+)$')
_RUBY = re.compile(r"^(?P<frame>\S+:\d+:in .*?): (?P<message>.*) \((?P<type>[A-Z][\w:]*)\)$")
_PHP = re.compile(
    r"^(?:PHP )?(?:Fatal|Parse) error: +(?:Uncaught (?P<type>[\w\\]+): )?(?P<rest>.*)$"
)
_PHP_WHERE = re.compile(r"^(?P<message>.*) in (?P<frame>\S+:\d+)(?:\s|$)")
_DOTNET = re.compile(r"^Unhandled [Ee]xception[.:] (?P<rest>.+)$")
_GO = re.compile(r"^(?:http: )?(?P<type>panic|fatal error)(?: serving \S+)?: (?P<message>.*)$")
_GO_PLUMBING = ("panic(", "runtime.", "net/http.(*conn).serve")


@dataclass(frozen=True)
class Uncaught:
    """One uncaught-exception report: what was raised, where, and the lines it was read from."""

    type: str
    message: str
    frame: str
    lines: tuple[LogRecord, ...]

    @property
    def shown(self) -> str:
        """The exception as a reader expects it: ``Type: message``."""
        return f"{self.type}: {self.message}" if self.message else self.type

    @property
    def key(self) -> str:
        """What groups reports of one defect: the type and the innermost frame."""
        return f"{self.type} at {self.frame or 'an unknown frame'}"

    def record(self) -> LogRecord:
        """The report as one log record of kind ``uncaught``."""
        first = self.lines[0]
        trace = next((line.trace for line in self.lines if line.trace), "")
        severity = max((line.severity for line in self.lines), key=severity_rank)
        return replace(
            first, message=self.shown, trace=trace, severity=severity, group=self.key,
            kind="uncaught",
        )  # fmt: skip


def is_report_line(text: str) -> bool:
    """True when a line (or any line of a text) has the shape of an uncaught-exception report."""
    return _LINE.search(text) is not None


def _split(text: str) -> tuple[str, str]:
    kind, _, message = text.partition(":")
    return kind.strip(), message.strip()


@dataclass
class _Draft:
    """A report being read: its language (``bare``: an exception line first) and its lines."""

    language: str
    texts: list[str]
    records: list[LogRecord]

    def frames(self) -> list[str]:
        return [t for t in self.texts if any(p.match(t) for p in _FRAME.values())]


def _parse(draft: _Draft) -> Uncaught | None:
    """The report's type, message and innermost frame; ``None`` when it is no report."""
    texts, frames = draft.texts, draft.frames()
    lines = tuple(draft.records)
    first = texts[0]
    if draft.language == "python":
        raised = [t for t in texts[1:] if _EXCEPTION_LINE.match(t)]
        found = [_PY_FRAME.match(t) for t in texts]
        last = next((m for m in reversed(found) if m), None)
        frame = ""
        if last is not None:
            frame = f"{last['file']}:{last['line']}" + (
                f" in {last['func']}" if last["func"] else ""
            )
        kind, message = _split(raised[-1]) if raised else ("Traceback", "")
        return Uncaught(kind, message, frame, lines)
    if draft.language == "go":
        match = _GO.match(first)
        assert match is not None
        return Uncaught(match["type"], match["message"], _go_frame(texts), lines)
        return Uncaught(match["type"], match["message"], frame, lines)
    if draft.language == "ruby":
        match = _RUBY.match(first)
        assert match is not None
        return Uncaught(match["type"], match["message"], match["frame"], lines)
    if draft.language == "php":
        match = _PHP.match(first)
        assert match is not None
        where = _PHP_WHERE.match(match["rest"])
        message = where["message"] if where else match["rest"]
        frame = where["frame"] if where else ""
        kind = match["type"] or first.split(":")[0].removeprefix("PHP ")
        return Uncaught(kind, message, frame, lines)
    at_frames = [t.strip().removeprefix("at ") for t in frames if _FRAME["at"].match(t)]
    innermost = at_frames[0] if at_frames else ""
    if draft.language == "java":
        match = _JAVA_THREAD.match(first)
        assert match is not None
        kind, message = _split(match["rest"])
        return Uncaught(kind, message, innermost, lines)
    if draft.language == "dotnet":
        match = _DOTNET.match(first)
        assert match is not None
        kind, message = _split(match["rest"])
        return Uncaught(kind, message, innermost, lines)
    if not at_frames:
        return None  # an exception-shaped line alone is a log line, not a crash report
    kind, message = _split(first)
    return Uncaught(kind, message, innermost, lines)


def _go_frame(texts: Sequence[str]) -> str:
    """The innermost function of the panicking goroutine that is not Go's own plumbing."""
    for index, text in enumerate(texts):
        if _FRAME["go_func"].match(text) and not text.startswith(_GO_PLUMBING):
            where = text.rsplit("(", 1)[0]  # main.handler(0x1), main.(*Server).handle(...)
            following = texts[index + 1] if index + 1 < len(texts) else ""
            file = following.split()[0] if _FRAME["go_file"].match(following) else ""
            return f"{where} ({file})" if file else where
    return ""


def _language(text: str) -> str | None:
    return next((name for name, pattern in _HEADER.items() if pattern.match(text)), None)


def parse_block(records: Sequence[LogRecord]) -> tuple[list[Uncaught], list[LogRecord]]:
    """Reports read from consecutive lines (``records``, one line or a whole report each).

    Returns the reports and the records that belong to none.
    """
    drafts: list[_Draft] = []
    current: _Draft | None = None
    loose: list[LogRecord] = []
    chained = False
    for record in records:
        for text in record.message.splitlines() or [""]:
            language = _language(text)
            if language is not None and not (chained and current and current.language == "python"):
                current = _Draft(language, [text], [record])
                drafts.append(current)
            elif _EXCEPTION_LINE.match(text) and (
                current is None or (current.language == "bare" and current.frames())
            ):
                current = _Draft("bare", [text], [record])
                drafts.append(current)
            elif current is not None and text.strip():
                current.texts.append(text)
                if current.records[-1] is not record:
                    current.records.append(record)
            elif current is None and (not loose or loose[-1] is not record):
                loose.append(record)
            chained = bool(_CHAINING.match(text)) or (chained and not text.strip())
    reports: list[Uncaught] = []
    for draft in drafts:
        report = _parse(draft)
        if report is None:
            loose.extend(r for r in draft.records if r not in loose)
        else:
            reports.append(report)
    used = {id(r) for report in reports for r in report.lines}
    return reports, [r for r in dict.fromkeys(loose) if id(r) not in used]


def _blocks(candidates: Sequence[LogRecord]) -> list[list[LogRecord]]:
    """Candidates grouped into runs of one instance's lines, each less than ``JOIN_GAP_S`` apart."""
    by_instance: dict[str, list[LogRecord]] = {}
    for record in candidates:
        by_instance.setdefault(record.instance, []).append(record)
    blocks: list[list[LogRecord]] = []
    gap = timedelta(seconds=JOIN_GAP_S)
    for lines in by_instance.values():
        lines.sort(key=lambda r: r.timestamp)
        block: list[LogRecord] = []
        for record in lines:
            whole = "\n" in record.message.strip()
            if block and (whole or record.timestamp - block[-1].timestamp > gap):
                blocks.append(block)
                block = []
            block.append(record)
            if whole:  # a whole report in one entry stands alone
                blocks.append(block)
                block = []
        if block:
            blocks.append(block)
    return blocks


def fold(entries: Sequence[LogRecord]) -> list[LogRecord]:
    """``entries`` with every uncaught-exception report folded into one ``uncaught`` record.

    Container-log lines of a report's shape that belong to no report are kept
    only when their severity (ERROR or worse) selected them on its own.
    """
    candidates = [e for e in entries if e.log in CONTAINER_LOGS and is_report_line(e.message)]
    if not candidates:
        return list(entries)
    chosen = {id(e) for e in candidates}
    folded = [e for e in entries if id(e) not in chosen]
    for block in _blocks(candidates):
        reports, loose = parse_block(block)
        folded += [report.record() for report in reports]
        folded += [e for e in loose if severity_rank(e.severity) >= severity_rank("ERROR")]
    folded.sort(key=lambda e: e.timestamp)
    return folded
