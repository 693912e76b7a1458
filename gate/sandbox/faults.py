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
    "empty-reply": "accepts each connection, reads the request and closes without answering",
    "rate-limited": "Cloud Run's front end: 429 'Rate exceeded.' (no instance free)",
    "not-ready-page": "Cloud Run's front end: Google's 503 page, service not available yet",
    "h2c-reset": "health answers; the upgrade gets the 503 'upstream connect error' of h2c",
    "iam-forbidden": "Cloud Run's front end: Google's 403 page, no permission (IAM)",
    "iam-token-rejected": "Cloud Run's front end: Google's 401 page, invalid_token challenge",
    "bad-gateway": "a proxy in front answers 502 Bad Gateway to everything",
    "close-1008": 'closes with 1008 "invalid token" on the first message (auth in the handler)',
    "binary-reply": "answers the first message in a binary frame",
    "accepts-alg-none": "accepts an unsigned token (alg: none)",
    "ignores-claims": "verifies the signature but not the audience or issuer",
    "flaky-5xx": "fails 1 in 5 API requests (/api/...) with 500, logging nothing itself; health, "
    "upgrade and messages are fine, so only real traffic (and its metrics) shows it",
    "slow-api": "answers API requests (/api/...) 80 ms late; health, upgrade and messages are "
    "fast, so only real traffic (and its latency metrics) shows it",
    "no-pubsub": "keeps each chat room in one instance's memory: a broadcast reaches only the "
    "sockets of the same instance (no shared pub/sub); run with two instances",
}


NEVER_STARTS = "never-starts"
H2C_PORT = "h2c-port"
SHORT_TIMEOUT = "short-timeout"
DEMO_FAULTS: dict[str, str] = {
    NEVER_STARTS: "the new revision's container never listens: Cloud Run never makes it Ready",
    H2C_PORT: "the new revision's container port is named h2c (end-to-end HTTP/2): every "
    "upgrade gets the serving proxy's 503",
    SHORT_TIMEOUT: "the new revision's request timeout is shorter than the sessions it serves: "
    "Cloud Run cuts every socket at that age",
}
"""Deploy outcomes ``gate demo`` shows besides the sandbox's faults."""
