"""The credential the gate presents: a ready token, or one minted with pyjwt.

Where a token comes from, in order:

1. ``--jwt-key-file``: mint RS256/ES256 (the algorithm follows the key type
   unless ``--jwt-algorithm`` says otherwise);
2. ``--jwt-secret-env`` given explicitly: mint HS256 from that variable;
3. the variable named by ``--token-env`` (default ``GATE_TOKEN``), when set;
4. the variable named by ``--jwt-secret-env`` (default ``GATE_JWT_SECRET``), when set;
5. otherwise no credential: the WebSocket is probed anonymously.

A variable named explicitly on the command line must exist. Secret values are
never accepted on the command line and never appear in error messages: errors
name the variable or the file instead.

Besides the real token, a :class:`Credential` makes the negative tokens of the
``ws.auth_enforced`` check: the same claims signed by a key the server cannot
know, and (when the gate mints) a token that expired a minute ago.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from gate.errors import ConfigError
from gate.matching import Json

_EXPIRED_BY_S = 60

# A short HMAC secret is the service's choice, not something the gate can fix;
# pyjwt's warning about it would only add noise to every run's stderr.
warnings.filterwarnings("ignore", message="The HMAC key is")


def b64url(token: str) -> str:
    """base64url of ``token`` without padding: the ``{token_b64url}`` placeholder."""
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


@dataclass(frozen=True)
class TokenSpec:
    """Where the token comes from and which claims a minted token carries."""

    token_env: str = "GATE_TOKEN"  # noqa: S105 (a variable's name, not its value)
    token_env_explicit: bool = False
    jwt_secret_env: str = "GATE_JWT_SECRET"  # noqa: S105 (a variable's name)
    jwt_secret_env_explicit: bool = False
    jwt_key_file: Path | None = None
    jwt_algorithm: str | None = None
    subject: str | None = None
    audience: str | None = None
    issuer: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)
    ttl_s: float = 300.0


@dataclass(frozen=True)
class Credential:
    """A token ready to present, plus the negative variants used to test enforcement."""

    token: str
    source: str
    algorithm: str
    secrets: tuple[str, ...]
    wrong_key_token: str
    expired_token: str | None


def load_credential(
    spec: TokenSpec,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> Credential | None:
    """Resolve ``spec`` into a :class:`Credential`, or ``None`` when none is configured."""
    env = os.environ if environ is None else environ
    if spec.token_env_explicit and spec.jwt_secret_env_explicit:
        raise ConfigError(
            "--token-env and --jwt-secret-env both given: use a ready token or mint one, not both"
        )
    if spec.jwt_key_file is not None:
        return _mint_from_key_file(spec, clock)
    if spec.jwt_secret_env_explicit:
        return _mint_from_secret(spec, _required_env(env, spec.jwt_secret_env), clock)
    if spec.token_env_explicit or env.get(spec.token_env):
        return _ready_token(spec, _required_env(env, spec.token_env))
    if env.get(spec.jwt_secret_env):
        return _mint_from_secret(spec, env[spec.jwt_secret_env], clock)
    return None


def _required_env(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise ConfigError(f"environment variable {name} is not set or empty: export it first")
    return value


def _claims(spec: TokenSpec, now: float) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iat": int(now),
        "nbf": int(now) - 5,
        "exp": int(now + spec.ttl_s),
        "jti": uuid.uuid4().hex,
    }
    for name, value in (("sub", spec.subject), ("aud", spec.audience), ("iss", spec.issuer)):
        if value is not None:
            claims[name] = value
    claims.update(spec.claims)
    return claims


def _expired(claims: Mapping[str, Any], now: float, ttl_s: float) -> dict[str, Any]:
    expired = dict(claims)
    expired["iat"] = int(now - ttl_s - _EXPIRED_BY_S)
    expired["nbf"] = expired["iat"] - 5
    expired["exp"] = int(now - _EXPIRED_BY_S)
    expired["jti"] = uuid.uuid4().hex
    return expired


def _mint_from_secret(spec: TokenSpec, secret: str, clock: Callable[[], float]) -> Credential:
    algorithm = spec.jwt_algorithm or "HS256"
    if not algorithm.startswith("HS"):
        raise ConfigError(
            f"--jwt-algorithm {algorithm} needs a key file: use --jwt-key-file, "
            "or HS256 with a secret"
        )
    now = clock()
    claims = _claims(spec, now)
    token = jwt.encode(claims, secret, algorithm=algorithm)
    return Credential(
        token=token,
        source=f"minted {algorithm} from ${spec.jwt_secret_env}",
        algorithm=algorithm,
        secrets=(token, b64url(token), secret),
        wrong_key_token=_sign_with_stranger_key(claims, algorithm),
        expired_token=jwt.encode(_expired(claims, now, spec.ttl_s), secret, algorithm=algorithm),
    )


def _mint_from_key_file(spec: TokenSpec, clock: Callable[[], float]) -> Credential:
    path = spec.jwt_key_file
    assert path is not None
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"--jwt-key-file {path}: cannot read it ({exc.strerror}): "
            "check the path and permissions"
        ) from None
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ConfigError(
            f"--jwt-key-file {path}: not an unencrypted PEM private key: export it with "
            "`openssl pkey -in KEY -out KEY.pem`"
        ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm = spec.jwt_algorithm or "RS256"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = spec.jwt_algorithm or "ES256"
    else:
        raise ConfigError(f"--jwt-key-file {path}: only RSA and EC keys are supported")
    now = clock()
    claims = _claims(spec, now)
    try:
        token = jwt.encode(claims, key, algorithm=algorithm)
    except (jwt.InvalidKeyError, NotImplementedError, ValueError, TypeError):
        raise ConfigError(
            f"--jwt-algorithm {algorithm} does not fit the key in {path}: use RS256 for RSA, "
            "ES256 for a P-256 EC key"
        ) from None
    return Credential(
        token=token,
        source=f"minted {algorithm} from {path}",
        algorithm=algorithm,
        secrets=(token, b64url(token)),
        wrong_key_token=_sign_with_stranger_key(claims, algorithm),
        expired_token=jwt.encode(_expired(claims, now, spec.ttl_s), key, algorithm=algorithm),
    )


def _ready_token(spec: TokenSpec, token: str) -> Credential:
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        # Not a JWT (an opaque token): the negative variant is a random opaque token.
        stranger = secrets.token_urlsafe(max(16, len(token) * 3 // 4))
        return Credential(
            token=token,
            source=f"opaque token from ${spec.token_env}",
            algorithm="opaque",
            secrets=(token, b64url(token)),
            wrong_key_token=stranger,
            expired_token=None,
        )
    algorithm = str(header.get("alg", "HS256"))
    return Credential(
        token=token,
        source=f"token from ${spec.token_env}",
        algorithm=algorithm,
        secrets=(token, b64url(token)),
        wrong_key_token=_sign_with_stranger_key(claims, algorithm),
        expired_token=None,
    )


def _sign_with_stranger_key(claims: Mapping[str, Any], algorithm: str) -> str:
    """The same claims signed by a fresh key the server cannot know."""
    fresh = dict(claims)
    fresh["jti"] = uuid.uuid4().hex
    if algorithm.startswith(("RS", "PS")):
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(fresh, rsa_key, algorithm=algorithm)
    if algorithm.startswith("ES"):
        curve = {"ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}.get(algorithm, ec.SECP256R1())
        return jwt.encode(fresh, ec.generate_private_key(curve), algorithm=algorithm)
    hs = algorithm if algorithm in ("HS256", "HS384", "HS512") else "HS256"
    return jwt.encode(fresh, secrets.token_urlsafe(32), algorithm=hs)


def parse_claim(item: str) -> tuple[str, Json]:
    """Parse ``--jwt-claim KEY=VALUE``; VALUE is JSON when it parses, else a string."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--jwt-claim {item!r}: expected KEY=VALUE, e.g. --jwt-claim role=admin")
    try:
        value: Json = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value
