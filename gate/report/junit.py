"""JUnit XML: one testcase per check, as Jenkins, GitLab, Cloud Build viewers and
GitHub test-report actions read it (the common Ant/Jenkins JUnit format).

A failed check is a ``<failure>`` whose message is ``diagnosis: summary`` and
whose text holds the hint; a skipped check is ``<skipped>`` with its reason;
warnings go to ``<system-out>``. Times are the checks' measured durations.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gate.model import MultiResult, RunResult


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.3f}"


def render_junit(result: RunResult | MultiResult, suite: str = "smoke-gate") -> str:
    """The report as a JUnit XML document: one testsuite per target."""
    named = result.results if isinstance(result, MultiResult) else (("", result),)
    checks = [c for _name, r in named for c in r.checks]
    steps = [s for _name, r in named for s in r.steps]
    root = ET.Element("testsuites", name=suite, tests=str(len(checks) + len(steps)))
    failed = sum(c.status == "fail" for c in checks) + sum(s["verdict"] == "fail" for s in steps)
    root.set("failures", str(failed))
    root.set("errors", str(sum(r.verdict == "error" for _name, r in named)))
    root.set("time", _seconds(result.duration_ms))
    for name, one in named:
        _suite(root, one, f"{suite} {name or one.target.get('url', '')}".strip())
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(root: ET.Element, result: RunResult, name: str) -> None:
    failures = sum(c.status == "fail" for c in result.checks)
    failures += sum(s["verdict"] == "fail" for s in result.steps)
    skipped = sum(c.status == "skip" for c in result.checks)
    skipped += sum(s["verdict"] == "inconclusive" for s in result.steps)
    testsuite = ET.SubElement(
        root,
        "testsuite",
        name=name,
        tests=str(len(result.checks) + len(result.steps)),
        failures=str(failures),
        errors="1" if result.verdict == "error" else "0",
        skipped=str(skipped),
        time=_seconds(result.duration_ms),
        timestamp=result.started_at.strftime("%Y-%m-%dT%H:%M:%S"),
        id=result.run_id,
    )
    properties = ET.SubElement(testsuite, "properties")
    for name, value in (
        ("verdict", result.verdict),
        ("exit_code", str(result.exit_code)),
        ("trace_id", result.trace_id or ""),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    for check in result.checks:
        case = ET.SubElement(
            testsuite,
            "testcase",
            name=check.id,
            classname=f"gate.{check.id.split('.')[0]}",
            time=_seconds(check.duration_ms),
        )
        if check.status == "fail":
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{check.diagnosis}: {check.summary}",
                type=str(check.diagnosis),
            )
            failure.text = f"hint: {check.hint}" if check.hint else ""
        elif check.status == "skip":
            ET.SubElement(case, "skipped", message=check.summary)
        else:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(
                [check.summary, *(f"warning {w.code}: {w.message}" for w in check.warnings)]
            )
    for step in result.steps:
        case = ET.SubElement(
            testsuite,
            "testcase",
            name=f"step {step['name']}",
            classname="gate.canary",
            time=_seconds(step["duration_ms"]),
        )
        if step["verdict"] == "fail":
            failure = ET.SubElement(
                case, "failure", message=f"{step['diagnosis']}: {step['summary']}",
                type=str(step["diagnosis"]),
            )  # fmt: skip
            hint = step.get("hint")
            failure.text = f"hint: {hint}" if hint else step["summary"]
        elif step["verdict"] == "error":
            ET.SubElement(case, "error", message=step["summary"]).text = step["summary"]
        elif step["verdict"] == "inconclusive":
            ET.SubElement(case, "skipped", message=f"inconclusive: {step['summary']}")
        else:
            ET.SubElement(case, "system-out").text = step["summary"]
    if result.error is not None:
        err = ET.SubElement(testsuite, "system-err")
        err.text = result.error
