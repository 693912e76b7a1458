"""The sandbox's fault catalogue: each name reproduces one failure of the field reports."""

from __future__ import annotations

FAULTS: dict[str, str] = {
    "none": "healthy: behaves like the field reports' backend",
    "no-subprotocol": "accepts the upgrade without selecting any offered subprotocol",
    "unexpected-subprotocol": "selects a subprotocol the client never offered",
    "echo-credential": "selects the credential-bearing jwt.* subprotocol, echoing the token",
    "reject-upgrade": "refuses every upgrade with 403 although HTTP calls with the token work",
    "plain-http": "answers the upgrade with 200, like a proxy that dropped the Upgrade header",
    "bad-accept": "answers 101 with a wrong Sec-WebSocket-Accept",
    "close-on-message": 'closes with 1000 "main cleanup" 0.15 s after the first message',
    "crash": 'closes with 1011 "internal error" on the first message',
    "silent": "accepts the socket and the message, and never answers",
    "oversized": "answers the first message with a 2 MiB message",
    "dependency-unhealthy": "GET /health answers 503 with redis unhealthy",
    "status-unhealthy": 'GET /health answers 200 with {"status": "unhealthy"}',
    "health-500": "GET /health answers 500 with a plain-text error page",
    "auth-not-enforced": "serves the socket with no credential or a forged one",
    "expired-accepted": "verifies the signature but accepts expired tokens",
    "cold-start": "answers 503 with Retry-After to everything for --cold-start seconds",
    "garbage": "answers every connection with bytes that are not HTTP",
    "hang": "accepts connections and never answers",
}

RAW_FAULTS = frozenset({"garbage", "hang"})
