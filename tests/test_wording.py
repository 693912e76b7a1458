"""Every message the gate prints is a plain, grammatical sentence: counts agree with their nouns
in the singular and the plural, and no hint speaks of one kind of app (our first users' agent
runtime) as if every service were one.

The judges that put a count in a summary or a hint are run on hand-built inputs with one and
with two of the thing counted, and every text they and the renderers give is read for a
count that disagrees with its noun.
"""

from __future__ import annotations

import json
import re

import pytest

from gate.checks.health import judge_health
from gate.checks.logs import judge_logs
from gate.cloud.model import LogFetch
from gate.diagnoses import DIAGNOSIS_REFERENCE, NOTE_REFERENCE, WARNING_REFERENCE
from gate.model import CheckResult, RunResult
from gate.probes.transcript import HttpAttempt, HttpResponse, HttpTranscript
from gate.report.github import summary_markdown
from gate.report.text import render_text
from gate.text import plural, were
from tests.checks.test_logs import TRACE, _entry
from tests.report.build import STARTED, logs

NOUNS = ("error entries", "entries", "groups", "list calls", "samples", "messages", "steps",
         "rounds", "requests", "dependencies", "checks", "webhooks", "attempts", "log errors")  # fmt: skip
_ONE_MANY = re.compile(rf"(?<![\d.,])1 ({'|'.join(NOUNS)})\b")
_MANY_ONE = re.compile(r"(?<![\d.,])([02-9]|\d{2,}) (error entry|group|list call|sample|message|"
                       r"dependency|check|webhook|log error)\b(?! (?:is|was|has))")  # fmt: skip


def disagreements(text: str) -> list[str]:
    """The places in ``text`` where a count and its noun or verb disagree."""
    found = [m.group(0) for m in _ONE_MANY.finditer(text)]
    found += [m.group(0) for m in _MANY_ONE.finditer(text)]
    found += re.findall(r"(?<![\d.,])1 of them were\b", text)
    return found


def _health(dependencies: int, status: str = "DOWN") -> CheckResult:
    checks = {f"dep{n}": {"status": status} for n in range(dependencies)}
    body = json.dumps({"status": "healthy", "checks": checks})
    response = HttpResponse(200, "OK", {"Content-Type": "application/json"}, body, len(body),
                            False)  # fmt: skip
    transcript = HttpTranscript("GET", "https://api/health", (HttpAttempt(0, 5, response),), 5)
    return judge_health([transcript], ["/health"], 200, None)


def _logs(entries: int, calls: int, ours: int) -> CheckResult:
    records = tuple(
        _entry(f"KeyError: 'user{n}' at {n}", trace=TRACE if n < ours else "", at=n)
        for n in range(entries)
    )
    result, _block = judge_logs(LogFetch("f", records, calls, 1.0, False, 5.0, "svc-2"), TRACE,
                                [], 0 if entries else 5)  # fmt: skip
    return result


@pytest.mark.parametrize("count", [1, 2])
def test_the_judges_agree_with_their_counts(count: int) -> None:
    texts = []
    for check in (_health(count), _health(count, "UP"), _logs(count, count, count),
                  _logs(0, count, 0)):  # fmt: skip
        texts += [check.summary, check.hint or ""]
    for text in texts:
        assert not disagreements(text), text


@pytest.mark.parametrize("count", [1, 2])
def test_the_reports_agree_with_their_counts(count: int) -> None:
    from tests.report.build import group

    groups = [group(fingerprint=str(n), count=1) for n in range(count)]
    block = {**logs(*groups), "calls": count, "count": count}
    result = RunResult(run_id="r", started_at=STARTED, duration_ms=1.0,
                       target={"url": "https://x"}, checks=(_logs(count, count, 0),),
                       logs=block)  # type: ignore[arg-type]  # fmt: skip
    for text in (render_text(result), summary_markdown(result)):
        assert not disagreements(text), text


def test_the_reference_speaks_to_every_service() -> None:
    for code, entry in {**DIAGNOSIS_REFERENCE, **WARNING_REFERENCE, **NOTE_REFERENCE}.items():
        text = " ".join(str(part) for part in (entry if isinstance(entry, tuple) else (entry,)))
        assert "agent" not in text.lower(), code
        assert not disagreements(text), code


def test_the_checker_itself_catches_what_it_looks_for() -> None:
    assert disagreements("1 error entries in 1 groups; 1 of them were logged")
    assert disagreements("3 group")
    assert not disagreements("1 error entry in 1 group; 1 of them was logged; 2 groups")
    assert plural(1, "entry") == "1 entry"
    assert plural(2, "entry") == "2 entries"
    assert plural(2, "day") == "2 days"
    assert (were(1), were(2)) == ("was", "were")
