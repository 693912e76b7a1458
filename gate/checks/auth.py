"""``ws.auth_enforced``: the socket must refuse missing, forged and expired credentials.

Each negative session (no credential, a token signed by a key the server
cannot know, and, when the gate mints, a token that expired a minute ago)
counts as *refused* when the upgrade gets a non-101 answer or the connection
closes before the exchange completes. It is *served* when a reply arrives that
satisfies ``--expect``; without ``--expect``, any reply that does not read as
an error (``{"type": "error"}``, ``{"error": ...}``) counts as served. A
session that stays open and silent is not served. A negative session that
could not reach the server at all proves nothing and fails the check with
that network diagnosis.
"""

from __future__ import annotations

from gate.checks.network import network_failure
from gate.checks.websocket import close_text, session_evidence
from gate.model import UNSIGNED, CheckId, CheckResult, skipped
from gate.probes.transcript import AuthProbe, WsSession

CHECK_ID: CheckId = "ws.auth_enforced"
_NETWORK_KINDS = ("dns_failure", "connect_refused", "connect_timeout", "tls_error", "deadline")


def _outcome(session: WsSession, expect_given: bool) -> tuple[str, str]:
    """``(verdict, detail)`` with verdict ``refused``, ``served`` or ``unreached``."""
    final = session.final
    if not session.upgraded:
        assert final.error is not None
        if final.error.kind in _NETWORK_KINDS or final.error.kind == "read_timeout":
            return "unreached", final.error.message
        if final.handshake is not None:
            return "refused", f"HTTP {final.handshake.status}"
        return "refused", final.error.message
    exchange = session.exchange
    if exchange is None:
        return "refused", "handshake failed at subprotocol negotiation"
    served = [m for m in exchange.messages if m.matched and (expect_given or not m.error_like)]
    if served:
        return "served", f"replied {served[0].text!r}"
    if exchange.close is not None:
        return "refused", f"closed with {close_text(exchange.close.code, exchange.close.reason)}"
    if exchange.messages:
        return "refused", f"answered with an error: {exchange.messages[0].text!r}"
    return "refused", "socket stayed open without a reply"


def judge_auth(
    main: WsSession, probe: AuthProbe | None, expect_given: bool, skip_reason: str | None
) -> CheckResult:
    """Judge the negative sessions against the rule in the module docstring."""
    if probe is None:
        return skipped(CHECK_ID, skip_reason or "not run")
    if not main.upgraded:
        return skipped(
            CHECK_ID, "not run: the authenticated upgrade failed, so refusals prove nothing"
        )
    outcomes = [(v, *_outcome(v, expect_given)) for v in probe.variants]
    evidence: dict[str, object] = {
        "variants": [
            {"credential": v.label, "outcome": verdict, "detail": detail, **session_evidence(v)}
            for v, verdict, detail in outcomes
        ]
    }
    for variant, verdict, _detail in outcomes:
        if verdict == "unreached":
            error = variant.final.error
            assert error is not None
            return network_failure(
                CHECK_ID, error, f"{variant.label}", probe.duration_ms, 1, evidence
            )
    served = [(v.label, detail) for v, verdict, detail in outcomes if verdict == "served"]
    if served:
        # The most severe forgery first: an unsigned token lets anyone be anyone.
        served.sort(key=lambda item: item[0] != UNSIGNED)
        names = "; ".join(f"{label}: {detail}" for label, detail in served)
        lead = (
            "the socket accepted an UNSIGNED token (alg: none), so anyone can forge any identity; "
            if served[0][0] == UNSIGNED
            else ""
        )
        return CheckResult(
            CHECK_ID,
            "fail",
            f"{lead}the socket served the exchange without a valid credential ({names})",
            probe.duration_ms,
            attempts=len(outcomes),
            diagnosis="auth_not_enforced",
            hint="the WebSocket route does not fully verify the token: it must check the "
            "signature with a fixed algorithm list (never alg: none), the expiry, the audience "
            "and the issuer, and refuse a bad credential with 401/403 or a close (e.g. 1008) "
            "before any reply",
            evidence=evidence,
        )
    refusals = "; ".join(f"{v.label}: {detail}" for v, _verdict, detail in outcomes)
    return CheckResult(
        CHECK_ID,
        "pass",
        f"refused {len(outcomes)} of {len(outcomes)} ({refusals})",
        probe.duration_ms,
        attempts=len(outcomes),
        evidence=evidence,
    )
