"""Google-signed ID tokens for private Cloud Run services (``--iam``).

The token goes in ``X-Serverless-Authorization`` so that Cloud Run's IAM check
passes while the application's own JWT stays in the WebSocket subprotocol.
"""

from __future__ import annotations

from gate.cloud.calls import Budget
from gate.errors import GateFailure


def _fetch(audience: str) -> str:
    import google.auth.transport.requests
    from google.auth import exceptions as auth_exc
    from google.oauth2 import id_token

    try:
        request = google.auth.transport.requests.Request()
        token = id_token.fetch_id_token(request, audience)  # type: ignore[no-untyped-call]
    except auth_exc.GoogleAuthError as exc:
        raise GateFailure(
            f"--iam: could not fetch an ID token for {audience} ({exc}): run with "
            "a service account (GOOGLE_APPLICATION_CREDENTIALS or the metadata server) that has "
            "roles/run.invoker"
        ) from None
    except (ValueError, KeyError, TypeError):
        # google-auth indexes the answer as JSON: an HTML page (a proxy's sign-in, a
        # captive portal) or other JSON ends up as one of these.
        raise GateFailure(
            f"--iam: the token endpoint did not answer with an ID token for {audience} (an "
            "HTML page or other JSON: a proxy in the way?): check the credentials' token_uri "
            "and any HTTPS proxy"
        ) from None
    return str(token)


async def fetch_id_token(audience: str, budget: Budget) -> str:
    """An ID token for ``audience`` from the ambient Google credentials, within ``budget``."""
    return await budget.call(
        lambda: _fetch(audience), "--iam: fetch an ID token", "roles/run.invoker"
    )
