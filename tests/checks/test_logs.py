"""``gate.checks.logs``: grouping, kinds, expectations and hints, on hand-built log records."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from gate.checks.logs import Expected, counts, fingerprint, judge_logs, kind_of
from gate.cloud.model import REQUEST_LOG, SYSTEM_LOG, LogFetch, LogRecord
from gate.model import CheckResult, LogsBlock

START = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
TRACE = "a" * 32


def _entry(message: str, *, log: str = "run.googleapis.com/stderr", severity: str = "ERROR",
           status: int | None = None, trace: str = "", at: int = 0) -> LogRecord:  # fmt: skip
    return LogRecord(START + timedelta(seconds=at), severity, message,
                     f"projects/p/traces/{trace}" if trace else "", f"id-{at}-{message[:8]}",
                     log, status)  # fmt: skip


def _judge(*entries: LogRecord, max_errors: int = 0) -> tuple[CheckResult, LogsBlock | None]:
    fetched = LogFetch("the filter", entries, 2, 1.0, False, 5.0, "svc-2")
    return judge_logs(fetched, TRACE, [re.compile("noise")], max_errors)


def test_fingerprints_mask_ids_and_numbers() -> None:
    one = fingerprint("timeout after 5012 ms on conn 7f3a9c2e11\nsecond line")
    other = fingerprint("timeout after 498 ms on conn 0b12ffe901")
    assert one == other == "timeout after <n> ms on conn <hex>"
    assert fingerprint("user 123e4567-e89b-12d3-a456-426614174000 gone") == "user <uuid> gone"


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        (_entry("KeyError: 'x'"), "app"),
        (_entry("The request was aborted because there was no available instance.",
                log=REQUEST_LOG, status=429), "capacity"),
        (_entry("The request was not authenticated.", log=REQUEST_LOG, status=403), "iam"),
        (_entry("", log=REQUEST_LOG, status=504), "timeout"),
        (_entry("Default STARTUP TCP probe failed 1 time consecutively", log=SYSTEM_LOG),
         "startup"),
        (_entry("something else", log=REQUEST_LOG, status=500), "platform"),
    ],
)  # fmt: skip
def test_kinds_come_from_cloud_run_s_wording(entry: LogRecord, kind: str) -> None:
    assert kind_of(entry) == kind


def test_what_the_gate_caused_on_purpose_never_counts() -> None:
    negative = "b" * 32
    expected = Expected(frozenset({negative}), iam_trace=TRACE)
    assert not counts(_entry("refused a forged token", trace=negative), expected)
    refused = _entry("The request was not authenticated.", log=REQUEST_LOG, status=403, trace=TRACE)
    assert not counts(refused, expected)
    assert counts(_entry("KeyError", trace=TRACE), expected)
    assert not counts(_entry("Starting new instance", log=SYSTEM_LOG, severity="INFO"), expected)


def test_within_the_allowance_passes() -> None:
    result, block = _judge(_entry("one"), _entry("healthcheck noise"), max_errors=1)
    assert result.status == "pass"
    assert "1 error entry for svc-2 (allowed 1, 1 ignored" in result.summary
    assert block is not None
    assert (block["count"], block["ignored"], block["calls"]) == (1, 1, 2)


@pytest.mark.parametrize(
    ("entries", "hint"),
    [
        ((_entry("Default STARTUP TCP probe failed", log=SYSTEM_LOG),), "did not start"),
        ((_entry("no available instance", log=REQUEST_LOG, status=429, severity="WARNING"),),
         "raise max instances"),
        ((_entry("KeyError: 'user'", trace=TRACE),), f"trace {TRACE}"),
        ((_entry("KeyError: 'user'"),), "none carries the gate's trace id"),
    ],
    ids=["startup", "capacity", "the-gate-s", "others"],
)  # fmt: skip
def test_each_failure_has_the_hint_of_its_kind(entries: tuple[LogRecord, ...], hint: str) -> None:
    result, _block = _judge(*entries)
    assert (result.status, result.diagnosis) == ("fail", "log_errors_found")
    assert result.hint is not None
    assert hint in result.hint
    assert result.hint.endswith("drop known noise with --ignore-log REGEX")


def test_not_run_is_a_skip_with_its_reason() -> None:
    result, block = judge_logs(None, None, (), 0, "turned off with --no-logs")
    assert (result.status, block) == ("skip", None)
    assert "--no-logs" in result.summary
