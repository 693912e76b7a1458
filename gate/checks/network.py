"""Failures whose cause is the connection itself: DNS, TCP, TLS, timeouts, garbage.

Every check judges these the same way, so the table of their diagnoses and
hints lives here once.
"""

from __future__ import annotations

from gate.model import CheckId, CheckResult, Diagnosis, Evidence
from gate.probes.transcript import ProbeError

_NETWORK: dict[str, tuple[Diagnosis, str]] = {
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
    "empty_reply": (
        "empty_reply",
        "the server accepted the connection and closed it without a byte of an answer: the "
        "process crashed on the request, or a proxy in front of it dropped it; the logs at "
        "this time say which",
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
    check_id: CheckId,
    error: ProbeError,
    what: str,
    duration_ms: float,
    attempts: int,
    evidence: Evidence,
) -> CheckResult:
    """A failure whose cause is the connection itself."""
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
