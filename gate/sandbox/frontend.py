"""What Cloud Run's front end answers when it refuses a request before the container sees it.

The shapes come from ``shared/context/cloud-run-facts.md`` (Google's troubleshooting
pages and public captures): every response carries ``server: Google Frontend``
and ``x-cloud-trace-context``; a refusal by the front end is Google's HTML
error page, the body ``Rate exceeded.`` (429, no instance free), or, for an
upgrade to a container speaking end-to-end HTTP/2, the serving proxy's
``upstream connect error ...`` text. The sandbox's front-end faults and the
test-only front end of the test suite both answer with these.
"""

from __future__ import annotations

import secrets

GOOGLE_FRONTEND = "Google Frontend"
RATE_EXCEEDED = "Rate exceeded."
H2C_RESET = "upstream connect error or disconnect/reset before headers. reset reason: remote reset"
# What the front end writes to the request log, in Cloud Run's words.
NO_INSTANCE = "The request was aborted because there was no available instance."
NOT_AUTHENTICATED = (
    "The request was not authenticated. Either allow unauthenticated invocations or set the "
    "proper Authorization header."
)
NOT_AUTHORIZED = "The request was not authorized to invoke this service."
MALFORMED_RESPONSE = (
    "The request failed because either the HTTP response was malformed or connection to the "
    "instance had an error."
)
STARTUP_PROBE_FAILED = (
    'Default STARTUP TCP probe failed 1 time consecutively for container "{container}" on '
    "port 8080. The instance was not started."
)
INVALID_TOKEN_CHALLENGE = (
    'Bearer error="invalid_token" error_description="The access token could not be verified"'  # noqa: S105 (a challenge, not a secret)
)

_PAGE = """<html><head>
<meta http-equiv="content-type" content="text/html;charset=utf-8">
<title>{status} {title}</title>
</head>
<body text=#000000 bgcolor=#ffffff>
<h1>Error: {title}</h1>
<h2>{detail}</h2>
<h2></h2>
</body></html>
"""


def google_page(status: int, title: str, detail: str) -> str:
    """Google's HTML error page, as the front end serves it."""
    return _PAGE.format(status=status, title=title, detail=detail)


def not_ready_page() -> str:
    """503: no ready revision, or no instance could start."""
    return google_page(
        503,
        "Server Error",
        "The service you requested is not available yet.<p>Please try again in 30 seconds.",
    )


def forbidden_page(path: str) -> str:
    """403: a private service called without a usable ID token."""
    return google_page(
        403,
        "Forbidden",
        f"Your client does not have permission to get URL <code>{path}</code> from this server.",
    )


def unauthorized_page() -> str:
    """401: an ID token the front end cannot verify."""
    return google_page(
        401,
        "Unauthorized",
        "Your client does not have permission to the requested URL <code>/</code>.",
    )


def front_end_headers(content_type: str) -> dict[str, str]:
    """The headers every front-end answer carries."""
    return {
        "Content-Type": content_type,
        "server": GOOGLE_FRONTEND,
        "x-cloud-trace-context": f"{secrets.token_hex(16)};o=1",
    }
