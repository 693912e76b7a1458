"""The result of one check, the diagnosis and warning catalogues, and shared helpers.

Check ids, diagnosis codes and warning codes are a public contract (README,
JSON report): tests pin them, and they are only ever added to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gate.probes.transcript import ProbeError

Status = Literal["pass", "fail", "warn", "skip"]

CHECK_IDS = ("http.health", "ws.upgrade", "ws.subprotocol", "ws.first_message", "ws.auth_enforced")
VERIFY_CHECK_IDS = (*CHECK_IDS, "logs.errors")
# Present only when configured: --config [scenario], --connections, --samples/--budget.
OPTIONAL_CHECK_IDS = ("ws.scenario", "ws.concurrency", "latency")

DIAGNOSES = (
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
)

WARNING_CODES = ("credential_echoed", "health_degraded")


@dataclass(frozen=True)
class Warning:
    """A finding that does not fail the run unless ``--strict``."""

    code: str
    message: str


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check, with the measured time and the evidence behind it."""

    id: str
    status: Status
    summary: str
    duration_ms: float
    attempts: int = 1
    diagnosis: str | None = None
    hint: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[Warning, ...] = ()

    def __post_init__(self) -> None:
        if (self.status == "fail") != (self.diagnosis is not None):
            raise ValueError(f"{self.id}: a failed check carries exactly one diagnosis")
        if self.diagnosis is not None and self.diagnosis not in DIAGNOSES:
            raise ValueError(f"{self.id}: unknown diagnosis {self.diagnosis!r}")
        for warning in self.warnings:
            if warning.code not in WARNING_CODES:
                raise ValueError(f"{self.id}: unknown warning {warning.code!r}")


def failure(
    check_id: str,
    diagnosis: str,
    summary: str,
    hint: str,
    duration_ms: float,
    evidence: Mapping[str, Any],
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


def skipped(check_id: str, reason: str) -> CheckResult:
    """A check that did not run; it claims nothing and took no time."""
    return CheckResult(check_id, "skip", reason, 0.0, attempts=0)


_NETWORK = {
    "dns_failure": (
        "dns_failure",
        "the host name does not resolve: check the URL (and, on Cloud Run, the service's region)",
    ),
    "connect_refused": (
        "connect_refused",
        "nothing accepts connections there: check the port and that the service is deployed",
    ),
    "connect_timeout": (
        "connect_timeout",
        "the host never accepted the TCP connection: a firewall, a wrong address or an "
        "overloaded front end",
    ),
    "tls_error": (
        "tls_error",
        "TLS verification failed: check the certificate chain and host name; a private CA "
        "goes in --ca-bundle (verification is never turned off)",
    ),
    "read_timeout": (
        "read_timeout",
        "the server accepted the connection but did not answer in time: look for a hung "
        "handler in the service's request logs",
    ),
    "protocol_error": (
        "protocol_error",
        "the peer did not speak the expected protocol: is another program on that port, or "
        "TLS behind an http:// URL?",
    ),
    "deadline": (
        "deadline_exceeded",
        "the run's --deadline passed before this check finished: raise --deadline, or look "
        "for what hangs",
    ),
    "message_too_large": (
        "message_too_large",
        "a message exceeded --max-message-size: raise the limit if that size is intended, "
        "otherwise the server is sending far more than a reply",
    ),
}


def network_failure(
    check_id: str,
    error: ProbeError,
    what: str,
    duration_ms: float,
    attempts: int,
    evidence: Mapping[str, Any],
) -> CheckResult:
    """A failure whose cause is the connection itself (DNS, TCP, TLS, timeouts, garbage)."""
    diagnosis, hint = _NETWORK.get(error.kind, _NETWORK["protocol_error"])
    retried = f" after {attempts} attempts" if attempts > 1 else ""
    return CheckResult(
        check_id,
        "fail",
        f"{what}: {error.message}{retried}",
        duration_ms,
        attempts=attempts,
        diagnosis=diagnosis,
        hint=hint,
        evidence=evidence,
    )


def is_network_kind(kind: str) -> bool:
    """True for error kinds judged the same way by every check."""
    return kind in _NETWORK
