"""The diagnosis reference: what each diagnosis and warning code means and what to do about it.

One entry per code of ``gate.model.Diagnosis`` and ``gate.model.WarningCode`` (a test holds the
two in step). The documentation's diagnosis reference (docs/reference/diagnoses.md) is
generated from this table by ``tools/docs_reference.py``, so the page a user reads and the
codes the gate gives cannot drift apart. The hints in a report are written by the judges in
``gate.checks`` for the case at hand; this table is the general answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from gate.model import Diagnosis, NoteCode, WarningCode


@dataclass(frozen=True)
class Entry:
    """One code: what the gate saw, and the first thing to try."""

    meaning: str
    action: str


DIAGNOSIS_REFERENCE: dict[Diagnosis, Entry] = {
    "dns_failure": Entry(
        "The host name does not resolve.",
        "Check the URL's host for a typo, and that a custom domain's DNS records exist.",
    ),
    "connect_refused": Entry(
        "Nothing accepts TCP connections at the address, even after the cold-start retries.",
        "Check the port in the URL, and that the service listens on the port Cloud Run sends it.",
    ),
    "connect_timeout": Entry(
        "The TCP connection was never accepted.",
        "Check firewalls and VPC egress between the runner and the service, or raise "
        "`--connect-timeout`.",
    ),
    "tls_error": Entry(
        "TLS verification or the TLS handshake failed.",
        "Check the certificate's chain and names; for a private CA, pass `--ca-bundle`.",
    ),
    "read_timeout": Entry(
        "The connection was made, but no answer came within `--read-timeout`.",
        "Look for a blocked request handler or a slow dependency in the revision's logs.",
    ),
    "protocol_error": Entry(
        "The peer did not speak HTTP or WebSocket: garbage bytes or a broken frame.",
        "Check that the URL points at the service itself and not at a proxy or another port.",
    ),
    "empty_reply": Entry(
        "The server accepted the connection and closed or reset it without a byte of an answer.",
        "Look for a crash at the start of the request in the revision's logs.",
    ),
    "http_status": Entry(
        "A health path answered another status than `--expect-status` (redirects included).",
        "Open the health path by hand; if it moved, change `--health-path`.",
    ),
    "health_body_invalid": Entry(
        "The health body was declared JSON but was not, had no end, or did not contain "
        "`--expect-body`.",
        "Compare the body in the evidence with `--expect-body`.",
    ),
    "health_status_unhealthy": Entry(
        "The health document reports the service unhealthy.",
        "Read the document's status in the evidence, then the revision's logs.",
    ),
    "health_dependency_unhealthy": Entry(
        "The health document reports a dependency unhealthy; the summary names it.",
        "Check the named dependency (database, cache, downstream API) from the revision.",
    ),
    "upgrade_rejected": Entry(
        "The app refused the WebSocket upgrade with a 4xx or 5xx other than 426.",
        "For 401 or 403, check a rotated secret or a claim mismatch first, then Origin checks, "
        "then differences between HTTP and WebSocket authentication.",
    ),
    "upgrade_not_supported": Entry(
        "The upgrade was answered with 426, or served as plain HTTP (a 2xx or 3xx).",
        "Check the WebSocket path (`--ws-path`) and that the route upgrades.",
    ),
    "handshake_invalid": Entry(
        "The server answered 101 with an invalid handshake "
        "(`Sec-WebSocket-Accept`, `Upgrade` or `Connection`).",
        "Check a proxy in front of the app that rewrites headers.",
    ),
    "subprotocol_not_selected": Entry(
        "Subprotocols were offered and the server selected none.",
        "Make the server select one of `--subprotocol`; the credential may ride on the "
        "subprotocol too.",
    ),
    "subprotocol_unexpected": Entry(
        "The server selected a subprotocol never offered, or not `--expect-subprotocol`.",
        "Align the server's subprotocol list with the client's.",
    ),
    "closed_by_server": Entry(
        "The server closed normally (1000 or 1001) before the expected reply.",
        "Look at the server's close path: a main loop that ends, or a cleanup that closes early.",
    ),
    "credential_rejected": Entry(
        "The socket was accepted, then closed with 1008 or an application auth code "
        "(4001, 4003, 4401, 4403) before the expected reply.",
        "The secret or key was rotated, or `aud`, `iss` or `sub` differ from what the server "
        "expects.",
    ),
    "server_error_close": Entry(
        "Any other close code (such as 1011), or a drop without a close frame (1006).",
        "Look for an exception in the revision's logs at the time of the close.",
    ),
    "first_message_timeout": Entry(
        "No matching message arrived in time; the evidence lists what did arrive.",
        "Compare what arrived with `--expect`, or raise `--message-timeout`.",
    ),
    "message_wrong_type": Entry(
        "The expected reply arrived as a binary frame; the evidence shows its decoded start.",
        "Send text frames for JSON replies, or match the binary reply instead.",
    ),
    "message_too_large": Entry(
        "A message exceeded `--max-message-size`.",
        "Raise `--max-message-size` if the size is expected, or find what the server sent.",
    ),
    "auth_not_enforced": Entry(
        "The socket served the exchange without a valid credential; the summary names which "
        "forgery was served, an unsigned (`alg: none`) token first.",
        "Verify the token's signature, algorithm, expiry and audience before serving a socket.",
    ),
    "frontend_rate_limited": Entry(
        "Cloud Run's front end answered 429 after retries: no instance was free.",
        "Raise max instances or concurrency, or look for instances stuck on long requests.",
    ),
    "revision_unavailable": Entry(
        "Cloud Run's front end answered its 500 or 503 page after retries: no instance could "
        "serve.",
        "Read the revision's start-up logs: the container failed to start or to listen.",
    ),
    "upstream_reset": Entry(
        "The serving proxy answered 503 `upstream connect error or disconnect/reset before "
        "headers`: it got no answer from the container.",
        "On the upgrade this is usually end-to-end HTTP/2: `gate verify` names an `h2c` "
        "container port; redeploy with `gcloud run deploy --no-use-http2`.",
    ),
    "iam_denied": Entry(
        "Cloud Run's front end answered its 403 page: no ID token, or no `run.routes.invoke`.",
        "Pass `--iam` and grant the caller `roles/run.invoker` on the service.",
    ),
    "iam_token_rejected": Entry(
        "Cloud Run's front end answered 401 `invalid_token`: an ID token for the wrong audience "
        "(a tag URL), or an access token.",
        "Use an ID token (not an access token) whose audience is the service's main URL.",
    ),
    "upstream_unavailable": Entry(
        "A proxy or load balancer in front of the app answered 502 or 504 after retries.",
        "Check the load balancer's backend health and its timeout.",
    ),
    "revision_not_ready": Entry(
        "`gate verify`: the revision's Ready condition is not true; its reason and message are "
        "quoted.",
        "Fix what the condition's message names (image, port, permissions), then redeploy.",
    ),
    "deadline_exceeded": Entry(
        "The run's deadline passed before the check finished; the report names the phase cut.",
        "Raise `--deadline`, or find the slow phase in the timeline.",
    ),
    "log_errors_found": Entry(
        "`gate verify`: more counted log entries than `--max-log-errors` for the revision.",
        'Open the log query in the report\'s "Where to look"; silence known noise with '
        "`--ignore-log`.",
    ),
    "scenario_step_timeout": Entry(
        "`ws.scenario`: the next expected message did not arrive in the step's time.",
        "Compare the transcript in the evidence with the step's `expect`.",
    ),
    "scenario_out_of_order": Entry(
        "`ws.scenario`: a later expected message arrived before the next one.",
        "Check the server's message order, or relax the scenario's order.",
    ),
    "concurrency_failed": Entry(
        "`ws.concurrency`: some of the concurrent connections failed.",
        "Read the failures by diagnosis in the evidence; check concurrency and max instances.",
    ),
    "latency_budget_exceeded": Entry(
        "`latency`: a metric's p95 is over its `--budget`.",
        "Compare with the previous revision, or raise the budget if the change is expected.",
    ),
    "canary_error_rate_exceeded": Entry(
        "A canary step or the watch: the candidate's 5xx ratio is above `--max-error-rate` and "
        "worse than the stable revisions' beyond noise (99%).",
        "Open the candidate's request log in the report's \"Where to look\".",
    ),
    "canary_latency_exceeded": Entry(
        "A canary step or the watch: the candidate's p95 (HTTP only) is above "
        "`--max-latency-ratio` times the stable p95.",
        "Compare the two revisions' latencies in Cloud Monitoring for the step's window.",
    ),
    "metrics_insufficient": Entry(
        "With `--require-metrics`: fewer than `--min-requests` candidate requests in a step's "
        "window.",
        "Send more traffic during the bake (`--step-bake`), or lower `--min-requests`.",
    ),
    "config_h2c_breaks_websocket": Entry(
        "The revision's container port is named `h2c` (end-to-end HTTP/2): WebSocket upgrades "
        "need HTTP/1.1 to the container, so every one fails with 503.",
        "Deploy with `gcloud run deploy --no-use-http2`.",
    ),
    "config_unsuited": Entry(
        "With `--config-fail-on warning`: a revision setting hurts a WebSocket service (its "
        "request timeout, CPU throttling or capacity; the findings name which).",
        "Apply each finding's fix (`gcloud run deploy` flag), or accept it without "
        "`--config-fail-on warning`.",
    ),
    "session_cut": Entry(
        "The socket of `--hold` ended before its time: at the revision's request timeout, at "
        "a proxy's or load balancer's idle or backend timeout, or by the server's own close.",
        "Read the cause named in the summary: raise `--timeout`, the load balancer's backend "
        "timeout, or fix the server's close; clients should reconnect either way.",
    ),
    "canary_metric_failed": Entry(
        "One of your `[[canary_metrics]]` (a critical one, or half of the others) was worse "
        "for the candidate than its threshold allows.",
        "Open the metric for the candidate's revision in Metrics Explorer over the step's "
        "window, and its logs.",
    ),
    "scenario_not_delivered": Entry(
        "A message sent on one scenario socket never arrived on another: on Cloud Run, "
        "usually a broadcast kept in one instance's memory.",
        "Share state between instances through a pub/sub (Memorystore for Redis, Firestore), "
        "as Cloud Run's WebSockets guide says.",
    ),
}

WARNING_REFERENCE: dict[WarningCode, Entry] = {
    "credential_echoed": Entry(
        "The server sent the gate's own credential back (in a header, a body or a message).",
        "Stop echoing credentials: whoever reads the logs or the page can replay them.",
    ),
    "health_degraded": Entry(
        "The health document reports the service degraded.",
        "Read the degraded parts in the evidence; `--strict` makes this a failure.",
    ),
    "notification_failed": Entry(
        "A notification webhook could not be posted; the verdict is unchanged.",
        "Check the webhook URL's variable and the receiver.",
    ),
    "config_timeout_cuts_sessions": Entry(
        "The revision's request timeout is shorter than `--session-length`: Cloud Run cuts "
        "every socket at that age.",
        "Deploy with `--timeout` up to 3600 s, and make clients reconnect.",
    ),
    "config_cpu_throttled": Entry(
        "The revision gets CPU only while requests run (`cpu_idle`): background work between "
        "messages, such as a pub/sub subscriber or a heartbeat, starves.",
        "Deploy with `--no-cpu-throttling` (instance-based billing).",
    ),
    "config_capacity_below": Entry(
        "Concurrency times max instances is below the sockets expected at once "
        "(`--expected-sessions`, else `--connections`): the next upgrades get 429.",
        "Raise `--concurrency` or `--max-instances` so that their product covers the sessions.",
    ),
}

NOTE_REFERENCE: dict[NoteCode, Entry] = {
    "config_no_session_affinity": Entry(
        "More than one instance and no session affinity: a client that reconnects may land on "
        "another instance, without its state.",
        "Keep session state shared, or deploy with `--session-affinity` (best effort).",
    ),
    "config_cold_start_unboosted": Entry(
        "Min instances 0 and no startup CPU boost: the first socket after idle waits for a cold "
        "start without extra CPU.",
        "Deploy with `--cpu-boost`, or `--min-instances=1`.",
    ),
}
