"""Emulated Google token endpoints: STS, service-account impersonation, IAM Credentials.

``--iam`` needs a Google-signed ID token whatever credentials ADC finds. The
paths to one call these HTTP endpoints, which this server answers on
127.0.0.1 with the shapes Google documents, so the tests run google-auth's and
google-cloud-iam's real code against it:

* ``POST /v1/token``: the Security Token Service's token exchange (RFC 8693),
  which an ``external_account`` credential file names as its ``token_url``
  (Workload Identity Federation). Form fields ``grant_type``
  (``urn:ietf:params:oauth:grant-type:token-exchange``), ``subject_token``,
  ``subject_token_type``, ``audience``; the answer ``access_token``,
  ``issued_token_type``, ``token_type``, ``expires_in`` (STS v1 ``token``
  method; google-auth ``oauth2/sts.py``);
* ``POST /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken``: the
  ``service_account_impersonation_url`` of such a file; JSON ``scope`` and
  ``lifetime`` in, ``accessToken`` and ``expireTime`` out (IAM Credentials v1);
* ``POST /v1/projects/-/serviceAccounts/EMAIL:generateIdToken``: IAM
  Credentials ``generateIdToken``, what google-cloud-iam's
  ``IAMCredentialsClient`` calls over REST; JSON ``audience`` and
  ``includeEmail`` in, ``token`` out. The caller's ``Authorization: Bearer``
  must be an access token this server issued (or one added with
  :meth:`TokenService.accept`, such as the token of an ``authorized_user``
  file), else 401 ``UNAUTHENTICATED``; an account not in ``allowed`` gets 403
  ``PERMISSION_DENIED``, as a missing ``roles/iam.serviceAccountTokenCreator``
  does. ID tokens are JWTs with ``aud``, ``iss`` (``https://accounts.google.com``),
  ``email``, ``iat`` and ``exp`` (one hour, Google's lifetime, unless
  ``id_token_ttl_s`` says otherwise).

Every request is recorded in :attr:`TokenService.calls`.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import jwt

from gate.sandbox.jsonhttp import JsonServer, Served

SIGNING_KEY = "emulated-google-id-token-signing-key-0123456789"
"""The key the emulated ID tokens are signed with (HS256): a local service can verify them."""
_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a URN)
_ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 (a URN)


@dataclass
class TokenCall:
    """One request: which endpoint, for which account, with which bearer and body."""

    path: str
    account: str
    bearer: str
    body: dict[str, Any]


@dataclass
class TokenService(Served):
    """The endpoints' state and HTTP server."""

    allowed: set[str] = field(default_factory=set)  # accounts that may be impersonated
    id_token_ttl_s: float = 3600.0
    calls: list[TokenCall] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # ID tokens
    _access: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: JsonServer | None = None
    url: str = ""

    def accept(self, access_token: str) -> None:
        """Take ``access_token`` as a valid caller (a user's token, from their own login)."""
        with self._lock:
            self._access.add(access_token)

    def _new_access_token(self) -> str:
        token = "ya29." + secrets.token_urlsafe(24)
        with self._lock:
            self._access.add(token)
        return token

    def answer(self, path: str, bearer: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The status and JSON answer of one request."""
        route, _, account = path.rpartition("/serviceAccounts/")
        account, _, method = unquote(account).partition(":")
        with self._lock:
            self.calls.append(TokenCall(path, account, bearer, body))
        if path == "/v1/token":
            if body.get("grant_type") != _TOKEN_EXCHANGE or not body.get("subject_token"):
                return 400, {"error": "invalid_request", "error_description": "bad exchange"}
            return 200, {
                "access_token": self._new_access_token(),
                "issued_token_type": _ACCESS_TOKEN,
                "token_type": "Bearer",
                "expires_in": 3600,
            }
        if route != "/v1/projects/-" or method not in ("generateAccessToken", "generateIdToken"):
            return 404, _error(404, "NOT_FOUND", f"no such method: {path}")
        with self._lock:
            known = bearer in self._access
        if not known:
            return 401, _error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials."
            )
        if account not in self.allowed:
            return 403, _error(
                403, "PERMISSION_DENIED",
                f"Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource {account}",
            )  # fmt: skip
        if method == "generateAccessToken":
            expires = datetime.now(UTC) + timedelta(hours=1)
            return 200, {
                "accessToken": self._new_access_token(),
                "expireTime": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        now = int(time.time())
        claims = {
            "aud": body.get("audience", ""),
            "iss": "https://accounts.google.com",
            "sub": str(abs(hash(account)))[:21],
            "iat": now,
            "exp": now + int(self.id_token_ttl_s),
        }
        if body.get("includeEmail"):
            claims["email"] = account
        token = jwt.encode(claims, SIGNING_KEY, algorithm="HS256")
        with self._lock:
            self.issued.append(token)
        return 200, {"token": token}

    def start(self) -> str:
        """Serve on 127.0.0.1; returns the base URL."""

        def answer(
            path: str, headers: Mapping[str, str], body: dict[str, Any]
        ) -> tuple[int, dict[str, Any]]:
            bearer = headers.get("authorization", "").removeprefix("Bearer ")
            return self.answer(path, bearer, body)

        return self._serve(answer)


def _error(code: int, status: str, message: str) -> dict[str, Any]:
    """A Google API error body (google.rpc.Status over REST)."""
    return {"error": {"code": code, "message": message, "status": status}}
