"""Answers of what stands in front of the app: Cloud Run's front end, and proxies.

Cloud Run's front end (the Google Front End) answers before the container
sees a request, with its own failure vocabulary. Every response through it
carries ``server: Google Frontend``, the app's own answers included, so that
header proves nothing alone: a front-end answer is recognised by its body,
Google's HTML error page (``<title>NNN ...</title>`` and ``<h1>Error: ...</h1>``
with Google's wording), the exact body ``Rate exceeded.``, or the serving
proxy's (Envoy's) ``upstream connect error or disconnect/reset before
headers``; the header only corroborates (it is shown in the evidence). An
app's own 403/429/503 with its own body keeps the app's diagnoses.

502 and 504 come from anything in front of the app (a proxy, a load balancer)
and are named ``upstream_unavailable`` whatever their body, unless the body is
the app's own health document.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from gate.model import CheckId, CheckResult, Diagnosis, Evidence
from gate.probes.transcript import header_of

Where = Literal["http", "ws"]

_TITLE = re.compile(r"<title>\s*(\d{3})\b[^<]*</title>", re.IGNORECASE)
_HEADING = re.compile(r"<h1>\s*Error:\s*([^<]*?)\s*</h1>", re.IGNORECASE)
_RATE_EXCEEDED = "Rate exceeded."
_ENVOY_RESET = "upstream connect error or disconnect/reset before headers"
_NO_PERMISSION = "does not have permission to get URL"
_UNAVAILABLE_WORDS = ("not available yet", "service unavailable", "server error")
PROXY_STATUSES = frozenset({502, 504})


@dataclass(frozen=True)
class Platform:
    """What the run knows of the platform in front of the app, for the judges' hints.

    ``iam``: the gate fetched the ID token itself (``--iam``), so front-end
    401/403 were retried while IAM propagated. ``h2c``: whether the revision's
    container port is named ``h2c`` (end-to-end HTTP/2), when ``gate verify``
    read it; ``None`` when unknown (``gate check``). ``timeout_s``: the revision's
    request timeout, which ends every socket at that age (``None``: unknown).
    """

    iam: bool = False
    h2c: bool | None = None
    timeout_s: float | None = None


UNKNOWN_PLATFORM = Platform()
IAM_RETRIES = (
    "with --iam, the front end's 401/403 were retried within --retry-budget: IAM changes take "
    "from ~40 s to minutes to apply"
)


@dataclass(frozen=True)
class FrontEnd:
    """A front-end answer: its diagnosis, what identified it, and whether Google's header came."""

    diagnosis: Diagnosis
    seen: str
    google: bool


def _google_page(body: str) -> tuple[int, str] | None:
    """``(status in the title, the h1 wording)`` of Google's HTML error page, if it is one."""
    title, heading = _TITLE.search(body), _HEADING.search(body)
    if title is None or heading is None:
        return None
    return int(title.group(1)), heading.group(1)


def front_end_answer(status: int, headers: Mapping[str, str], body: str) -> FrontEnd | None:
    """Classify an answer as the front end's own (by its body), or ``None`` (the app's).

    502/504 are not classified here (see :func:`proxy_answer`): they are retried
    as cold starts first, and named only once the retries are spent.
    """
    google = (header_of(headers, "server") or "").lower().startswith("google frontend")
    text = body.strip()
    if status == 503 and _ENVOY_RESET in text:
        return FrontEnd("upstream_reset", f"HTTP 503 {_ENVOY_RESET!r}", google)
    if status == 429 and text == _RATE_EXCEEDED:
        return FrontEnd("frontend_rate_limited", f"HTTP 429 {_RATE_EXCEEDED!r}", google)
    page = _google_page(text)
    if page is None:
        return None
    seen = f"Google's HTTP {status} page 'Error: {page[1]}'"
    challenge = (header_of(headers, "www-authenticate") or "").lower()
    if status == 429:
        return FrontEnd("frontend_rate_limited", seen, google)
    if status in (500, 503) and any(word in text.lower() for word in _UNAVAILABLE_WORDS):
        return FrontEnd("revision_unavailable", seen, google)
    if status == 403 and _NO_PERMISSION in text:
        return FrontEnd("iam_denied", seen, google)
    if status == 401 and 'error="invalid_token"' in challenge:
        return FrontEnd("iam_token_rejected", seen, google)
    return None


_HINTS: dict[Diagnosis, str] = {
    "frontend_rate_limited": "Cloud Run had no instance free for the request: the service is at "
    "its max instances or its concurrency per instance; raise either, or keep min instances "
    "warm so a release does not start cold",
    "revision_unavailable": "Cloud Run had no instance that could serve: the revision is still "
    "starting, failed to start, or crashed; read its Ready condition and its system log "
    "(gate verify shows both)",
    "iam_denied": "Cloud Run's IAM refused the request before the app saw it (no ID token, or a "
    "caller without run.routes.invoke): use gate verify --iam, or --header "
    "'X-Serverless-Authorization: Bearer ID_TOKEN', and grant the caller roles/run.invoker",
    "iam_token_rejected": "Cloud Run could not verify the ID token: mint it for the service URL "
    "(its audience, also when calling a tag URL), and send an ID token, not an access token",
    "upstream_unavailable": "a proxy or load balancer in front of the service could not reach "
    "it or timed out: check its backend configuration and the service's health",
}
_RESET_HINTS: dict[Where, str] = {
    "ws": "the serving proxy could not get an answer from the container for the upgrade: on "
    "Cloud Run this is end-to-end HTTP/2 (h2c: a container port named h2c), and WebSockets "
    "need HTTP/1.1; deploy without --use-http2",
    "http": "the serving proxy could not get an answer from the container: it reset the "
    "connection or crashed; its logs at this time hold the error",
}


def front_end_hint(diagnosis: Diagnosis, where: Where, platform: Platform) -> str:
    """Where to look for a front-end diagnosis, on the health path or the upgrade."""
    if diagnosis != "upstream_reset":
        hint = _HINTS[diagnosis]
        if platform.iam and diagnosis in ("iam_denied", "iam_token_rejected"):
            hint += " (with --iam the gate retried within --retry-budget, as IAM changes take "
            "up to minutes to apply)"
        return hint
    if where == "ws" and platform.h2c is True:
        return (
            "the revision's container port is named h2c: end-to-end HTTP/2 is on, and "
            "WebSockets need HTTP/1.1; deploy without --use-http2"
        )
    if where == "ws" and platform.h2c is False:
        return (
            "the serving proxy got no answer from the container for the upgrade (its port is "
            "not h2c): the container reset the connection; its logs hold why"
        )
    return _RESET_HINTS[where]


def front_end_failure(
    check_id: CheckId,
    answer: FrontEnd,
    where: Where,
    platform: Platform,
    summary: str,
    duration_ms: float,
    attempts: int,
    evidence: Evidence,
) -> CheckResult:
    """A check failed by what stands in front of the app, not by the app."""
    origin = "Cloud Run's front end" if answer.diagnosis != "upstream_unavailable" else "a proxy"
    retried = f" (after {attempts} attempts)" if attempts > 1 else ""
    return CheckResult(
        check_id,
        "fail",
        f"{summary}: {answer.seen}, from {origin}, not the app{retried}",
        duration_ms,
        attempts=attempts,
        diagnosis=answer.diagnosis,
        hint=front_end_hint(answer.diagnosis, where, platform),
        evidence=evidence,
    )


def proxy_answer(status: int, headers: Mapping[str, str]) -> FrontEnd | None:
    """A 502/504: a proxy or load balancer could not reach the app or timed out."""
    if status not in PROXY_STATUSES:
        return None
    google = (header_of(headers, "server") or "").lower().startswith("google frontend")
    return FrontEnd("upstream_unavailable", f"HTTP {status}", google)
