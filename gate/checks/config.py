"""``revision.config``: the revision's settings judged for what a WebSocket service needs.

Cloud Run's WebSockets guide lists the settings that break or starve a socket service; this
judge reads them from the revision (:class:`~gate.cloud.model.RevisionConfig`) and gives one
finding per setting that hurts, with the field, its value, what users will see and the
``gcloud run deploy`` flag that fixes it:

* an ``h2c`` container port (end-to-end HTTP/2): every upgrade fails with 503, since
  WebSockets need HTTP/1.1 to the container: ``config_h2c_breaks_websocket``, a failure;
* a request ``timeout`` below ``--session-length``: every socket ends at that age (the
  request-timeout page: a WebSocket is a request): ``config_timeout_cuts_sessions``, a warning;
* ``cpu_idle`` (CPU only while requests run): between messages a background task (a pub/sub
  subscriber, a heartbeat) gets no CPU: ``config_cpu_throttled``, a warning;
* capacity, concurrency x max instances (0 meaning the platform defaults), below the sessions
  the user expects (``--expected-sessions``, else the gate's own ``--connections``):
  ``config_capacity_below``, a warning with the number;
* notes, never warnings: no session affinity with more than one instance (a reconnecting
  user lands on another instance), and min instances 0 without startup CPU boost (the first
  socket after idle waits for a slow cold start).

``--config-fail-on warning`` makes the warnings fail the check (``config_unsuited``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gate.cloud.model import RevisionConfig
from gate.model import (
    DIAGNOSES,
    NOTE_CODES,
    WARNING_CODES,
    CheckId,
    CheckResult,
    ConfigBlock,
    ConfigFinding,
    Diagnosis,
    Finding,
    NoteCode,
    Severity,
    Status,
    WarningCode,
    failure,
)
from gate.text import plural

CHECK_ID: CheckId = "revision.config"
WEBSOCKETS_GUIDE = "https://cloud.google.com/run/docs/triggering/websockets"


@dataclass(frozen=True)
class Needs:
    """What the user said their service needs: how long a session lasts, how many at once."""

    session_length_s: float = 3600.0
    expected_sessions: int | None = None
    connections: int = 0
    fail_on: str = "failure"  # or "warning"

    @property
    def sessions(self) -> tuple[int, str] | None:
        """The sessions to serve at once, and where the number comes from."""
        if self.expected_sessions:
            return self.expected_sessions, "--expected-sessions"
        if self.connections:
            return self.connections, "--connections"
        return None


def _span(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g} s"


def _finding(
    code: Diagnosis | WarningCode | NoteCode, field: str, value: str, effect: str, fix: str
) -> ConfigFinding:
    """One finding; its severity follows from its code's kind."""
    severity: Severity = "failure" if code in DIAGNOSES else "note" if code in NOTE_CODES else (
        "warning"
    )  # fmt: skip
    return {"code": code, "severity": severity, "field": field, "value": value,
            "effect": effect, "fix": fix}  # fmt: skip


def findings_of(config: RevisionConfig, ports: Sequence[str], needs: Needs) -> list[ConfigFinding]:
    """Every setting that hurts a WebSocket service, most severe first."""
    found: list[ConfigFinding] = []
    if "h2c" in ports:
        found.append(_finding(
            "config_h2c_breaks_websocket", "containers[].ports[].name", "h2c",
            "every WebSocket upgrade fails with 503 (end-to-end HTTP/2 carries no HTTP/1.1 "
            "upgrade to the container)", "gcloud run deploy --no-use-http2",
        ))  # fmt: skip
    if config.timeout_s < needs.session_length_s:
        found.append(_finding(
            "config_timeout_cuts_sessions", "timeout", f"{config.timeout_s:g}s",
            f"every socket is cut at {_span(config.timeout_s)}, before the "
            f"{_span(needs.session_length_s)} of --session-length; clients must reconnect",
            f"gcloud run deploy --timeout={min(3600, round(needs.session_length_s))} "
            "(at most 3600), and reconnect in the client",
        ))  # fmt: skip
    if config.cpu_idle:
        found.append(_finding(
            "config_cpu_throttled", "containers[].resources.cpu_idle", "true",
            "the instance gets CPU only while a request runs: between messages a background "
            "subscriber or heartbeat starves", "gcloud run deploy --no-cpu-throttling",
        ))  # fmt: skip
    wanted = needs.sessions
    if wanted is not None and config.capacity < wanted[0]:
        found.append(_finding(
            "config_capacity_below",
            "max_instance_request_concurrency x scaling.max_instance_count",
            f"{config.effective_concurrency} x {config.effective_max_instances} = "
            f"{config.capacity}",
            f"at most {config.capacity} sockets at once, fewer than the {wanted[0]} of "
            f"{wanted[1]}: the next ones get 429",
            f"gcloud run deploy --concurrency=N --max-instances=M with N x M >= {wanted[0]}",
        ))  # fmt: skip
    if not config.session_affinity and config.effective_max_instances > 1:
        found.append(_finding(
            "config_no_session_affinity", "session_affinity", "false",
            "a client that reconnects may land on another instance, which does not hold its "
            "state", "gcloud run deploy --session-affinity (best effort), or keep state shared",
        ))  # fmt: skip
    if config.min_instances == 0 and not config.startup_cpu_boost:
        found.append(_finding(
            "config_cold_start_unboosted",
            "scaling.min_instance_count, containers[].resources.startup_cpu_boost", "0, false",
            "the first socket after idle waits for a cold start without extra CPU",
            "gcloud run deploy --cpu-boost (or --min-instances=1)",
        ))  # fmt: skip
    return found


def config_block(
    revision: str, config: RevisionConfig, ports: Sequence[str], found: list[ConfigFinding]
) -> ConfigBlock:
    """The report's ``revision_config`` block."""
    return {
        "revision": revision, "timeout_s": config.timeout_s, "ports": list(ports),
        "cpu_idle": config.cpu_idle, "startup_cpu_boost": config.startup_cpu_boost,
        "concurrency": config.effective_concurrency,
        "min_instances": config.min_instances,
        "max_instances": config.effective_max_instances, "capacity": config.capacity,
        "session_affinity": config.session_affinity, "findings": found,
    }  # fmt: skip


def line(finding: ConfigFinding) -> str:
    """One finding as a sentence: the field and its value, what users see, the fix."""
    return f"{finding['field']} = {finding['value']}: {finding['effect']}; fix: {finding['fix']}"


def judge_config(
    revision: str, config: RevisionConfig, ports: Sequence[str], needs: Needs
) -> tuple[CheckResult, ConfigBlock]:
    """The ``revision.config`` check and the report's block."""
    found = findings_of(config, ports, needs)
    block = config_block(revision, config, ports, found)
    evidence = {"revision_config": block}
    failures = [f for f in found if f["severity"] == "failure"]
    warned = [f for f in found if f["severity"] == "warning"]
    notes = [f for f in found if f["severity"] == "note"]
    noted = f"; {plural(len(notes), 'note')} in the report" if notes else ""
    if failures:
        first = failures[0]
        return failure(
            CHECK_ID, "config_h2c_breaks_websocket", f"{revision}: {line(first)}",
            f"WebSockets need HTTP/1.1 to the container ({WEBSOCKETS_GUIDE}): {first['fix']}",
            0.0, evidence,
        ), block  # fmt: skip
    if warned and needs.fail_on == "warning":
        codes = ", ".join(f["code"] for f in warned)
        return failure(
            CHECK_ID, "config_unsuited", f"{revision}: {codes} (--config-fail-on warning)",
            "; ".join(line(f) for f in warned), 0.0, evidence,
        ), block  # fmt: skip
    warnings = tuple(Finding(_warning(f["code"]), line(f)) for f in warned)
    summary = (
        f"{revision}: timeout {config.timeout_s:g} s, concurrency "
        f"{config.effective_concurrency} x {config.effective_max_instances} instances = "
        f"{config.capacity} sockets, CPU {'throttled' if config.cpu_idle else 'always on'}"
        f"{noted}"
    )
    status: Status = "warn" if warnings else "pass"
    return CheckResult(CHECK_ID, status, summary, 0.0, evidence=evidence, warnings=warnings), block


def _warning(code: str) -> WarningCode:
    """A warning finding's code as the warning it is (every one is in ``WARNING_CODES``)."""
    assert code in WARNING_CODES, code
    return code
