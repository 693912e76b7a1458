"""``gate.checks.uncaught`` on hand-built log records: every language, one entry or one per line."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from gate.checks.logs import group_entries, judge_logs
from gate.checks.uncaught import JOIN_GAP_S, fold
from gate.cloud.model import LogFetch, LogRecord
from gate.stacks import LINE_PATTERN

START = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)

PYTHON = """Traceback (most recent call last):
  File "/app/.venv/lib/python3.12/site-packages/starlette/routing.py", line 74, in app
    response = await func(request)
  File "/app/main.py", line 31, in chat
    reply = agent.answer(message)
  File "/app/agent.py", line 12, in answer
    raise ValueError(f"unknown tool {name}")
ValueError: unknown tool search"""
PYTHON_CHAINED = """Traceback (most recent call last):
  File "/app/db.py", line 8, in fetch
    return pool.get()
KeyError: 'pool'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/main.py", line 20, in health
    fetch()
RuntimeError: database unavailable"""
NODE = """/app/server.js:42
    throw new TypeError("Cannot read properties of undefined (reading 'id')");
    ^

TypeError: Cannot read properties of undefined (reading 'id')
    at handleMessage (/app/server.js:42:11)
    at WebSocket.<anonymous> (/app/server.js:18:5)
    at WebSocket.emit (node:events:519:28)

Node.js v20.11.0"""
JAVA = """Exception in thread "main" java.lang.IllegalStateException: session closed
\tat com.example.chat.Session.send(Session.java:88)
\tat com.example.chat.Handler.onMessage(Handler.java:41)
Caused by: java.io.IOException: broken pipe
\tat java.base/sun.nio.ch.SocketDispatcher.write0(Native Method)
\t... 12 more"""
JAVA_LOGGED = """java.lang.NullPointerException: Cannot invoke "String.length()" because "s" is null
\tat com.example.Api.size(Api.kt:12)
\tat com.example.Api.handle(Api.kt:7)"""
GO = """panic: runtime error: index out of range [3] with length 2

goroutine 1 [running]:
main.pick(...)
\t/app/main.go:12
main.handler(0xc000012345)
\t/app/main.go:30 +0x1d
exit status 2"""
GO_HTTP = """http: panic serving 10.0.0.1:51234: assignment to entry in nil map
goroutine 21 [running]:
net/http.(*conn).serve.func1()
\t/usr/local/go/src/net/http/server.go:1903 +0xbe
panic({0x6a2b40?, 0x7b4c60?})
\t/usr/local/go/src/runtime/panic.go:770 +0x132
main.(*Server).remember(0xc0000a4000, {0x0, 0x0})
\t/app/server.go:55 +0x45"""
RUBY = """app.rb:3:in `handler': undefined method `name' for nil (NoMethodError)
\tfrom app.rb:7:in `block in <main>'
\tfrom app.rb:6:in `<main>'"""
PHP = """PHP Fatal error:  Uncaught Exception: token expired in /app/index.php:17
Stack trace:
#0 {main}
  thrown in /app/index.php on line 17"""
DOTNET = """Unhandled exception. System.InvalidOperationException: Sequence contains no elements
   at System.Linq.ThrowHelper.ThrowNoElementsException()
   at Program.<Main>$(String[] args) in /app/Program.cs:line 9"""

CASES = [
    (PYTHON, "ValueError: unknown tool search", "/app/agent.py:12 in answer"),
    (PYTHON_CHAINED, "RuntimeError: database unavailable", "/app/main.py:20 in health"),
    (
        NODE,
        "TypeError: Cannot read properties of undefined (reading 'id')",
        "handleMessage (/app/server.js:42:11)",
    ),
    (
        JAVA,
        "java.lang.IllegalStateException: session closed",
        "com.example.chat.Session.send(Session.java:88)",
    ),
    (
        JAVA_LOGGED,
        'java.lang.NullPointerException: Cannot invoke "String.length()" because "s" is null',
        "com.example.Api.size(Api.kt:12)",
    ),
    (
        GO,
        "panic: runtime error: index out of range [3] with length 2",
        "main.pick (/app/main.go:12)",
    ),
    (
        GO_HTTP,
        "panic: assignment to entry in nil map",
        "main.(*Server).remember (/app/server.go:55)",
    ),
    (RUBY, "NoMethodError: undefined method `name' for nil", "app.rb:3:in `handler'"),
    (PHP, "Exception: token expired", "/app/index.php:17"),
    (
        DOTNET,
        "System.InvalidOperationException: Sequence contains no elements",
        "System.Linq.ThrowHelper.ThrowNoElementsException()",
    ),
]


def _line(text: str, at: float, *, severity: str = "DEFAULT", instance: str = "i-1",
          log: str = "run.googleapis.com/stderr", trace: str = "") -> LogRecord:  # fmt: skip
    return LogRecord(
        timestamp=START + timedelta(seconds=at), severity=severity, message=text, trace=trace,
        insert_id=f"{instance}-{at}", log=log, instance=instance,
    )  # fmt: skip


def _selected(text: str) -> list[str]:
    """The lines of ``text`` the Logging query lists when each line is its own entry."""
    return [line for line in text.splitlines() if re.search(LINE_PATTERN, line)]


def _as_entries(
    text: str, per_line: bool, instance: str = "i-1", at: float = 0.0
) -> list[LogRecord]:
    if not per_line:
        return [_line(text, at, instance=instance)]
    return [_line(t, at + i * 1e-6, instance=instance) for i, t in enumerate(_selected(text))]


@pytest.mark.parametrize("per_line", [False, True], ids=["one entry", "per line"])
@pytest.mark.parametrize(("text", "shown", "frame"), CASES, ids=lambda v: str(v)[:20])
def test_each_language_s_report_is_one_uncaught_record(
    text: str, shown: str, frame: str, per_line: bool
) -> None:
    [record] = fold(_as_entries(text, per_line))
    assert record.kind == "uncaught"
    assert record.message == shown
    assert record.group == f"{shown.partition(':')[0]} at {frame}"


def test_a_report_matches_the_query_whole_or_line_by_line() -> None:
    for text, _shown, _frame in CASES:
        assert re.search(LINE_PATTERN, text), text
        assert _selected(text), text


@pytest.mark.parametrize(
    "line",
    [
        'INFO:     10.0.0.1:0 - "GET /health HTTP/1.1" 200 OK',
        "Started server process [1]",
        '{"severity": "INFO", "message": "chat turn done"}',
        "connected to redis in 14.78 ms",
    ],
)
def test_a_chatty_revision_s_ordinary_lines_are_not_selected(line: str) -> None:
    assert re.search(LINE_PATTERN, line) is None


def test_an_exception_shaped_line_alone_is_not_a_crash() -> None:
    """`Error: retrying` with no frame is an app's log line: dropped at DEFAULT, kept at ERROR."""
    quiet = _line("Error: upstream timed out, retrying", 0)
    loud = _line("ConnectionError: upstream refused", 1, severity="ERROR")
    assert fold([quiet, loud]) == [loud]


def test_two_instances_crashing_at_once_give_two_reports() -> None:
    lines = _as_entries(PYTHON, True, "i-1") + _as_entries(NODE, True, "i-2")
    lines.sort(key=lambda r: r.timestamp)
    kinds = sorted(r.message.partition(":")[0] for r in fold(lines))
    assert kinds == ["TypeError", "ValueError"]


def test_lines_further_apart_than_the_gap_are_two_reports() -> None:
    first = _as_entries(PYTHON, True)
    later = _as_entries(PYTHON, True, at=JOIN_GAP_S * 3)
    folded = fold(first + later)
    assert [r.message for r in folded] == ["ValueError: unknown tool search"] * 2


def test_reports_group_by_type_and_innermost_frame() -> None:
    entries = [
        *_as_entries(PYTHON, False, at=0),
        *_as_entries(PYTHON.replace("search", "browse"), False, at=5),  # same defect
        *_as_entries(PYTHON_CHAINED, False, at=9),
    ]
    groups, _ignored = group_entries(entries, None, ())
    assert [(g.kind, g.count) for g in groups] == [("uncaught", 2), ("uncaught", 1)]
    assert groups[0].fingerprint == "ValueError at /app/agent.py:12 in answer"
    assert not any(g.caused_by_gate for g in groups)


def test_an_uncaught_report_fails_logs_errors_with_the_exception_named() -> None:
    entries = tuple(_as_entries(NODE, True))
    fetched = LogFetch("filter", entries, 1, 0.0, False, 1.0, "svc-00002-new")
    result, block = judge_logs(fetched, "a" * 32, (), 0)
    assert result.status == "fail"
    assert result.diagnosis == "log_errors_found"
    assert "1 x uncaught TypeError: Cannot read properties" in result.summary
    assert "at handleMessage (/app/server.js:42:11)" in result.summary
    assert result.hint is not None
    assert "TypeError at handleMessage" in result.hint
    assert block is not None
    assert block["count"] == 1
    assert block["groups"][0]["kind"] == "uncaught"


def test_a_report_carrying_the_gate_s_trace_is_the_gate_s() -> None:
    trace = "b" * 32
    entries = [_line(PYTHON, 0, trace=f"projects/p/traces/{trace}")]
    groups, _ = group_entries(entries, trace, ())
    assert groups[0].caused_by_gate


@pytest.mark.parametrize(
    ("text", "group"),
    [
        ("Traceback (most recent call last):\nValueError: bad", "ValueError at an unknown frame"),
        (
            "panic: boom\n\ngoroutine 1 [running]:\nmain.pick(0x1)\nmain.main()",
            "panic at main.pick",
        ),
        (
            "panic: boom\n\ngoroutine 1 [running]:\nruntime.gopanic(0x1)\n"
            "\t/usr/local/go/src/runtime/panic.go:770 +0x132",
            "panic at an unknown frame",
        ),
    ],
    ids=["python-without-frames", "go-without-files", "go-plumbing-only"],
)
def test_a_report_without_its_frame_lines_is_grouped_by_what_it_names(
    text: str, group: str
) -> None:
    [record] = fold([_line(text, 0)])
    assert record.kind == "uncaught"
    assert record.group == group
