"""Google-signed ID tokens for private Cloud Run services (``--iam``), for every kind of ADC.

The token goes in ``X-Serverless-Authorization`` so that Cloud Run's IAM check
passes while the application's own JWT stays in the WebSocket subprotocol. Its
audience is the service URL, also when a tag URL is probed.

Where the token comes from, in this order:

1. a ready ID token in ``--id-token-env`` (default ``GATE_ID_TOKEN``), e.g. what
   google-github-actions/auth outputs with ``token_format: id_token``. It cannot
   be renewed, so it must outlast the run;
2. ``--impersonate-service-account SA``: IAM Credentials ``generateIdToken`` for
   SA, called with whatever credentials ADC finds (a developer's ``gcloud auth
   application-default login``, Workload Identity Federation, a key, the
   metadata server). The caller needs ``roles/iam.serviceAccountTokenCreator``
   on SA;
3. otherwise the ADC credentials themselves: a service-account key file, an
   impersonated service account given as a file, or the metadata server go
   through google-auth's ``id_token.fetch_id_token``, which handles exactly those
   (google-auth ``oauth2/id_token.py``). An ``external_account`` file (Workload
   Identity Federation, what google-github-actions/auth writes) that impersonates a
   service account is read again without its impersonation URL, and the
   federated principal calls ``generateIdToken`` for that account (it needs
   ``roles/iam.workloadIdentityUser`` or ``serviceAccountTokenCreator`` on it);
   ``fetch_id_token`` fails for these. User credentials (``authorized_user``)
   and federation without a service account cannot hold an ID token for Cloud
   Run: the gate says to add ``--impersonate-service-account``.

``generateIdToken`` goes through google-cloud-iam's ``IAMCredentialsClient``
over REST (an emulator's endpoint, from ``GATE_IAMCREDENTIALS_ENDPOINT``, may be given:
google-auth's own ``IDTokenCredentials`` posts to a fixed host). Tokens last an
hour; :class:`IdTokens` renews a minted one ``RENEW_BEFORE_S`` before it
expires, so a canary with a watch that runs longer keeps a valid token.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gate.cloud.calls import Budget
from gate.cloud.clients import build_rest
from gate.errors import ConfigError, GateFailure

INVOKER = "roles/run.invoker"
TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"  # noqa: S105 (a role's name)
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
RENEW_BEFORE_S = 300.0
"""A minted ID token is renewed when it has less than this long to live."""


def expiry_of(token: str) -> float | None:
    """The ``exp`` claim of a JWT (not verified: only to know when to renew), if readable."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) else None


@dataclass(frozen=True)
class IdToken:
    """An ID token, when it expires (epoch seconds, if known), and how it was obtained."""

    token: str
    expires_at: float | None
    source: str


def _generate(
    credentials: Any, account: str, audience: str, timeout: float, endpoint: str | None
) -> str:
    """IAM Credentials ``generateIdToken`` for ``account``, called with ``credentials``."""
    from google.cloud.iam_credentials_v1 import IAMCredentialsClient

    if getattr(credentials, "requires_scopes", False):
        credentials = credentials.with_scopes([CLOUD_PLATFORM])
    client = build_rest(IAMCredentialsClient, credentials, endpoint)
    try:
        answer = client.generate_id_token(
            name=f"projects/-/serviceAccounts/{account}",
            audience=audience,
            include_email=True,
            timeout=timeout,
            retry=None,
        )
    finally:
        client.transport.close()
    return str(answer.token)


def _federated(credentials: Any) -> tuple[Any, str] | None:
    """For an ``external_account`` that impersonates an account: its principal, and the account."""
    account = getattr(credentials, "service_account_email", None)
    info = getattr(credentials, "info", None)
    if not account or not isinstance(info, dict):
        return None
    import google.auth

    direct = {k: v for k, v in info.items() if k != "service_account_impersonation_url"}
    with warnings.catch_warnings():  # google-auth warns about loading configurations from dicts
        warnings.simplefilter("ignore")
        principal, _project = google.auth.load_credentials_from_dict(direct)  # type: ignore[no-untyped-call]
    return principal, str(account)


def _fetch(audience: str) -> str:
    """google-auth's own way, for a key file, an impersonated file or the metadata server."""
    import google.auth.transport.requests
    from google.oauth2 import id_token

    request = google.auth.transport.requests.Request()
    return str(id_token.fetch_id_token(request, audience))  # type: ignore[no-untyped-call]


def mint(
    audience: str, impersonate: str | None, timeout: float, endpoint: str | None = None
) -> IdToken:
    """An ID token for ``audience`` from the ambient credentials (blocking; see the module);
    ``endpoint``: an IAM Credentials emulator's."""
    import google.auth
    from google.auth import exceptions as auth_exc
    from google.auth import external_account
    from google.oauth2 import credentials as user_credentials

    # The project is not needed here: google-auth's warning that it found none is noise.
    logging.getLogger("google.auth._default").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():  # "end user credentials without a quota project"
            warnings.simplefilter("ignore")
            credentials, _project = google.auth.default()
        if impersonate is not None:
            token = _generate(credentials, impersonate, audience, timeout, endpoint)
            return IdToken(token, expiry_of(token), f"generateIdToken for {impersonate}")
        if isinstance(credentials, external_account.Credentials):
            federated = _federated(credentials)
            if federated is None:
                raise ConfigError(
                    "--iam: these Workload Identity Federation credentials impersonate no "
                    "service account, and only a service account gets an ID token for Cloud "
                    "Run: add --impersonate-service-account SA, or pass google-github-actions/"
                    "auth's id_token output in GATE_ID_TOKEN"
                )
            principal, account = federated
            token = _generate(principal, account, audience, timeout, endpoint)
            return IdToken(token, expiry_of(token), f"generateIdToken for {account} (federated)")
        if isinstance(credentials, user_credentials.Credentials):
            raise ConfigError(
                "--iam: user credentials (gcloud auth application-default login) cannot hold "
                "an ID token for Cloud Run: add --impersonate-service-account SA (you need "
                f"{TOKEN_CREATOR} on it), or put `gcloud auth print-identity-token` in "
                "GATE_ID_TOKEN"
            )
        token = _fetch(audience)
        return IdToken(token, expiry_of(token), "the ambient service account")
    except auth_exc.GoogleAuthError as exc:
        raise GateFailure(
            f"--iam: could not obtain an ID token for {audience} ({exc}): run with a service "
            "account (GOOGLE_APPLICATION_CREDENTIALS or the metadata server) that has "
            f"{INVOKER}, use --impersonate-service-account, or set GATE_ID_TOKEN"
        ) from None
    except (ValueError, KeyError, TypeError):
        # google-auth indexes the answer as JSON: an HTML page (a proxy's sign-in, a
        # captive portal) or other JSON ends up as one of these.
        raise GateFailure(
            f"--iam: the token endpoint did not answer with an ID token for {audience} (an "
            "HTML page or other JSON: a proxy in the way?): check the credentials' token_uri "
            "and any HTTPS proxy"
        ) from None


class IdTokens:
    """The ID token of a run: obtained once, renewed before it expires (minted ones only)."""

    def __init__(
        self,
        audience: str,
        impersonate: str | None = None,
        ready: str | None = None,
        clock: Callable[[], float] = time.time,
        endpoint: str | None = None,
    ) -> None:
        self.audience = audience
        self.endpoint = endpoint
        self.impersonate = impersonate
        self.ready = ready
        self.clock = clock
        self.current: IdToken | None = None
        self.minted = 0

    def fresh(self) -> bool:
        """True while the current token has more than ``RENEW_BEFORE_S`` to live."""
        current = self.current
        if current is None:
            return False
        if current.expires_at is None or self.ready is not None:
            return True  # a ready token cannot be renewed; one without exp is not renewed
        return current.expires_at - self.clock() > RENEW_BEFORE_S

    async def token(self, budget: Budget) -> IdToken:
        """The current token, obtained or renewed first when needed, within ``budget``."""
        if self.fresh():
            assert self.current is not None
            return self.current
        if self.ready is not None:
            self.current = IdToken(self.ready, expiry_of(self.ready), "--id-token-env")
            return self.current
        self.current = await budget.read(
            lambda: mint(self.audience, self.impersonate, budget.timeout(), self.endpoint),
            "--iam: obtain an ID token",
            INVOKER if self.impersonate is None else f"{TOKEN_CREATOR} on {self.impersonate}",
        )
        self.minted += 1
        return self.current
