"""Results and verdicts: what every layer above the probes produces and every renderer reads.

Check ids, diagnosis codes and warning codes are a public contract (README,
JSON report): they are ``Literal`` types here, so a misspelt code is a type
error, and tests pin their values. They are only ever added to.

This module imports no network library and does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, NotRequired, TypedDict, get_args

from gate.errors import ExitCode

Status = Literal["pass", "fail", "warn", "skip"]
Verdict = Literal["pass", "fail", "error"]

CheckId = Literal[
    "revision.ready",
    "http.health",
    "ws.upgrade",
    "ws.subprotocol",
    "ws.first_message",
    "ws.auth_enforced",
    "logs.errors",
    "ws.scenario",
    "ws.concurrency",
    "latency",
    "revision.config",
    "ws.hold",
]
CHECK_IDS: tuple[CheckId, ...] = (
    "http.health",
    "ws.upgrade",
    "ws.subprotocol",
    "ws.first_message",
    "ws.auth_enforced",
)
# gate verify: the revision's readiness and settings first, its logs last.
VERIFY_CHECK_IDS: tuple[CheckId, ...] = (
    "revision.ready",
    "revision.config",
    *CHECK_IDS,
    "logs.errors",
)
# Present only when configured: [scenario] in gate.toml, --connections, --samples/--budget,
# --hold.
OPTIONAL_CHECK_IDS: tuple[CheckId, ...] = ("ws.scenario", "ws.concurrency", "latency", "ws.hold")

Diagnosis = Literal[
    "dns_failure",
    "connect_refused",
    "connect_timeout",
    "tls_error",
    "read_timeout",
    "protocol_error",
    "http_status",
    "health_body_invalid",
    "health_status_unhealthy",
    "health_dependency_unhealthy",
    "upgrade_rejected",
    "upgrade_not_supported",
    "handshake_invalid",
    "subprotocol_not_selected",
    "subprotocol_unexpected",
    "closed_by_server",
    "server_error_close",
    "first_message_timeout",
    "message_too_large",
    "auth_not_enforced",
    "deadline_exceeded",
    "log_errors_found",
    "scenario_step_timeout",
    "scenario_out_of_order",
    "concurrency_failed",
    "latency_budget_exceeded",
    "frontend_rate_limited",
    "revision_unavailable",
    "upstream_reset",
    "iam_denied",
    "iam_token_rejected",
    "upstream_unavailable",
    "credential_rejected",
    "message_wrong_type",
    "empty_reply",
    "revision_not_ready",
    "canary_error_rate_exceeded",
    "canary_latency_exceeded",
    "metrics_insufficient",
    "config_h2c_breaks_websocket",
    "config_unsuited",
    "session_cut",
    "scenario_not_delivered",
    "canary_metric_failed",
]
DIAGNOSES: tuple[Diagnosis, ...] = get_args(Diagnosis)

WarningCode = Literal[
    "credential_echoed",
    "health_degraded",
    "notification_failed",
    "config_timeout_cuts_sessions",
    "config_cpu_throttled",
    "config_capacity_below",
]
WARNING_CODES: tuple[WarningCode, ...] = get_args(WarningCode)

NoteCode = Literal["config_no_session_affinity", "config_cold_start_unboosted"]
"""What ``revision.config`` notes without warning: worth knowing, never a verdict."""
NOTE_CODES: tuple[NoteCode, ...] = get_args(NoteCode)

Severity = Literal["failure", "warning", "note"]


class ConfigFinding(TypedDict):
    """One revision setting that hurts a WebSocket service: where, what users see, the fix."""

    code: Diagnosis | WarningCode | NoteCode
    severity: Severity
    field: str
    value: str
    effect: str
    fix: str


class ConfigBlock(TypedDict):
    """The report's ``revision_config``: the settings read and what ``revision.config`` found."""

    revision: str
    timeout_s: float
    ports: list[str]
    cpu_idle: bool
    startup_cpu_boost: bool
    concurrency: int
    min_instances: int
    max_instances: int
    capacity: int
    session_affinity: bool
    findings: list[ConfigFinding]


Evidence = Mapping[str, object]
"""What a check saw, as it goes into the JSON report (URLs, attempts, statuses, excerpts)."""

TrafficKind = Literal["LATEST", "REVISION"]
ActionKind = Literal["none", "rollback", "promote", "canary"]
ActionStatus = Literal["done", "failed", "dry-run", "skipped"]


class TrafficBlock(TypedDict):
    """One traffic target in reports and snapshots."""

    type: TrafficKind
    revision: str
    percent: int
    tag: str
    uri: str


class CheckSummary(TypedDict):
    """A check in one line of the ``action`` block's re-check."""

    id: CheckId
    status: Status
    diagnosis: Diagnosis | None


class TrafficChange(TypedDict):
    """One traffic update the run made (or planned, with ``--dry-run``), in order."""

    step: str
    status: ActionStatus
    traffic: list[TrafficBlock]


ActionBlock = TypedDict(
    "ActionBlock",
    {
        "kind": ActionKind,
        "from": str | None,
        "to": str | None,
        "status": ActionStatus,
        "verified": bool | None,
        "reason": str,
        "traffic": list[TrafficBlock],
        "checks": list[CheckSummary],
        "changes": list[TrafficChange],
    },
)
"""The report's ``action`` block: what ``verify`` did to traffic, and the re-check after it.

``changes`` lists every traffic update of the run: each canary step, then the
promotion or the restore (one entry for a plain rollback or promotion).
"""

StepVerdict = Literal["pass", "fail", "skip", "error", "inconclusive"]
MetricsVerdict = Literal["pass", "fail", "insufficient"]


class SideMetrics(TypedDict):
    """One side of a canary comparison (the candidate, or the stable revisions) in a window."""

    revisions: list[str]
    requests: int
    errors: int
    error_ratio: float | None
    http_requests: int
    p95_ms: float | None
    p50_ms: NotRequired[float | None]
    p99_ms: NotRequired[float | None]


@dataclass(frozen=True)
class UserMetric:
    """One metric of ``[[canary_metrics]]`` of ``gate.toml``, validated
    (:mod:`gate.config.usermetrics`)."""

    name: str
    metric: str | None
    labels: tuple[tuple[str, str], ...] = ()
    direction: Literal["increase", "decrease"] = "increase"
    threshold: float = 0.0
    relative: bool = False
    critical: bool = False
    promql: str | None = None

    def query(self, revision: str, service: str, window_s: float) -> str:
        """The PromQL query for ``revision``, its placeholders filled."""
        assert self.promql is not None
        filled = self.promql.replace("{revision}", revision).replace("{service}", service)
        return filled.replace("{window}", f"{round(window_s)}s")


class UserMetricBlock(TypedDict):
    """One ``[[canary_metrics]]`` metric of a step: both sides' rates and the outcome."""

    name: str
    metric: str
    direction: str
    critical: bool
    relative: bool
    threshold: float
    candidate_rate: float | None
    stable_rate: float | None
    candidate_total: float | None
    stable_total: float | None
    verdict: MetricsVerdict
    summary: str


class StepMetrics(TypedDict):
    """What Cloud Monitoring said about a step's window, and the judgement of it.

    ``asked_start``/``asked_end``: the step's own window (its traffic change to
    the end of its bake); ``window_start``/``window_end``: the window read, rounded
    out to whole alignment periods. ``reads``: how often it was read;
    ``settled``: whether the last two reads agreed (the counts stopped changing).
    """

    window_start: str
    window_end: str
    asked_start: str
    asked_end: str
    reads: int
    settled: bool
    candidate: SideMetrics
    stable: SideMetrics
    verdict: MetricsVerdict
    summary: str
    tests: NotRequired[dict[str, dict[str, object]]]
    """Each built-in metric's test: name, statistic, p-value, effect size and threshold."""
    limits: NotRequired[dict[str, float]]
    """The thresholds it was judged against (``--max-error-rate``, ...)."""
    user: NotRequired[list[UserMetricBlock]]
    """The ``[[canary_metrics]]`` of ``gate.toml``, judged."""


class ProbeRound(TypedDict):
    """One round of the checks during a step's bake."""

    at_ms: float
    passed: bool
    failed: list[CheckSummary]


class StepBlock(TypedDict):
    """One canary step (or the watch after promotion) in the report's ``steps``."""

    name: str
    percent: int
    url: str
    started_at: str
    duration_ms: float
    rounds: list[ProbeRound]
    log_errors: int
    metrics: StepMetrics | None
    verdict: StepVerdict
    diagnosis: Diagnosis | None
    summary: str
    hint: NotRequired[str | None]
    """Where to look when the step failed: what was worse, the metric, the Logging query."""


LogKind = Literal["app", "uncaught", "capacity", "iam", "timeout", "crash", "startup", "platform"]


class LogGroupBlock(TypedDict):
    """One group of log entries sharing a fingerprint.

    ``kind`` says who wrote it and about what (the app, or Cloud Run about
    capacity, IAM, a timeout, a crash, a startup); ``expected`` marks entries
    caused by the gate's negative-credential sessions, ``counted`` whether the
    group counts toward ``--max-log-errors``.
    """

    fingerprint: str
    count: int
    severity: str
    first: str
    sample: str
    caused_by_gate: bool
    kind: LogKind
    expected: bool
    counted: bool


class LogsBlock(TypedDict):
    """The report's ``logs`` block: what Cloud Logging held for the revision."""

    filter: str
    count: int
    expected: int
    ignored: int
    calls: int
    settle_s: float
    truncated: bool
    groups: list[LogGroupBlock]


class TargetBlock(TypedDict, total=False):
    """The report's ``target`` block; the Cloud Run keys are filled by ``gate verify``."""

    url: str
    ws_url: str
    health_urls: list[str]
    credential: str | None
    project: str
    region: str
    service: str
    revision: str
    tag: str | None


SNAPSHOT_SCHEMA = "gate.snapshot/v1"
"""The schema of the files ``gate snapshot`` writes and ``--restore`` reads."""

UNSIGNED = "unsigned token (alg: none)"
"""The label of the negative session whose acceptance is the most severe finding."""


def utc_text(moment: datetime) -> str:
    """A timestamp as the reports write it: ISO 8601 in UTC with a ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Finding:
    """A warning: something worth knowing that does not fail the run unless ``--strict``."""

    code: WarningCode
    message: str


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check, with the measured time and the evidence behind it."""

    id: CheckId
    status: Status
    summary: str
    duration_ms: float
    attempts: int = 1
    diagnosis: Diagnosis | None = None
    hint: str | None = None
    evidence: Evidence = field(default_factory=dict)
    warnings: tuple[Finding, ...] = ()

    def __post_init__(self) -> None:
        if (self.status == "fail") != (self.diagnosis is not None):
            raise ValueError(f"{self.id}: a failed check carries exactly one diagnosis")


def failure(
    check_id: CheckId,
    diagnosis: Diagnosis,
    summary: str,
    hint: str,
    duration_ms: float,
    evidence: Evidence,
    attempts: int = 1,
) -> CheckResult:
    """A failed check with its one diagnosis, what was seen, and where to look."""
    return CheckResult(
        check_id,
        "fail",
        summary,
        duration_ms,
        attempts=attempts,
        diagnosis=diagnosis,
        hint=hint,
        evidence=evidence,
    )


def skipped(check_id: CheckId, reason: str) -> CheckResult:
    """A check that did not run; it claims nothing and took no time."""
    return CheckResult(check_id, "skip", reason, 0.0, attempts=0)


def check_summaries(checks: Sequence[CheckResult]) -> list[CheckSummary]:
    """Each check in one line: id, status, diagnosis (a re-check, a probe round)."""
    return [{"id": c.id, "status": c.status, "diagnosis": c.diagnosis} for c in checks]


def checks_failed(checks: Sequence[CheckResult], strict: bool) -> bool:
    """The release failed: a check failed, or with ``--strict`` a check warned."""
    return any(c.status == "fail" for c in checks) or (strict and any(c.warnings for c in checks))


_WORST_FIRST: tuple[Verdict, ...] = ("error", "fail", "pass")
_SIGNALLED = {"SIGINT": ExitCode.INTERRUPTED, "SIGTERM": ExitCode.TERMINATED}
_EXIT_OF: dict[Verdict, ExitCode] = {
    "pass": ExitCode.PASS,
    "fail": ExitCode.FAIL,
    "error": ExitCode.GATE,
}


@dataclass(frozen=True)
class RunContext:
    """Where a run's configuration came from, for the report.

    ``config`` is the config file read (``None``: none); ``cloud_deploy`` the
    ``CLOUD_DEPLOY_*`` variables of a Cloud Deploy verify job, by their names
    without the prefix, in lower case (``release``, ``rollout``, ``target`` ...).
    """

    config: str | None = None
    cloud_deploy: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    """One target's run: the checks, the Cloud blocks of ``verify``, and the verdict."""

    run_id: str
    started_at: datetime
    duration_ms: float
    target: TargetBlock
    checks: tuple[CheckResult, ...]
    strict: bool = False
    trace_id: str | None = None
    logs: LogsBlock | None = None
    action: ActionBlock | None = None
    error: str | None = None
    error_overrides_failure: bool = False
    interrupted: str | None = None
    context: RunContext = field(default_factory=RunContext)
    notices: tuple[Finding, ...] = ()
    steps: tuple[StepBlock, ...] = ()
    revision_config: ConfigBlock | None = None

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Every warning of every check, then the run's own (``notices``).

        Only the checks' warnings fail a ``--strict`` run: a notice (a
        notification that could not be sent) never changes the verdict.
        """
        return tuple(w for c in self.checks for w in c.warnings) + self.notices

    @property
    def failed(self) -> bool:
        """True when a check or a canary step failed (or, with ``--strict``, a check warned)."""
        return checks_failed(self.checks, self.strict) or any(
            step["verdict"] == "fail" for step in self.steps
        )

    @property
    def verdict(self) -> Verdict:
        """``error`` when the gate could not finish and the failure is not certain."""
        if self.interrupted is not None:
            return "error"
        if self.error is not None and (self.error_overrides_failure or not self.failed):
            return "error"
        return "fail" if self.failed else "pass"

    @property
    def exit_code(self) -> ExitCode:
        """The exit code that goes with :attr:`verdict` (130/143 when a signal stopped it)."""
        if self.interrupted is not None:
            return _SIGNALLED[self.interrupted]
        return _EXIT_OF[self.verdict]


@dataclass(frozen=True)
class MultiResult:
    """One run over several targets: a result per target; the worst verdict wins."""

    run_id: str
    started_at: datetime
    duration_ms: float
    results: tuple[tuple[str, RunResult], ...]
    context: RunContext = field(default_factory=RunContext)
    notices: tuple[Finding, ...] = ()

    @property
    def verdict(self) -> Verdict:
        """The worst verdict of all targets (error > fail > pass)."""
        verdicts = {r.verdict for _name, r in self.results}
        return next((v for v in _WORST_FIRST if v in verdicts), "pass")

    @property
    def exit_code(self) -> ExitCode:
        """The exit code that goes with :attr:`verdict` (130/143 when a signal stopped it)."""
        signalled = next((r.interrupted for _n, r in self.results if r.interrupted), None)
        return _SIGNALLED[signalled] if signalled else _EXIT_OF[self.verdict]

    @property
    def interrupted(self) -> str | None:
        """The signal that stopped the run, if one did."""
        return next((r.interrupted for _n, r in self.results if r.interrupted), None)

    @property
    def error(self) -> str | None:
        """The first target's error, if any, prefixed with its name."""
        return next((f"{n}: {r.error}" for n, r in self.results if r.error), None)


Result = RunResult | MultiResult
