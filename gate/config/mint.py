"""Minting and forging JWTs with pyjwt: the only module of the gate that imports it.

Imported only when a token is minted (``--jwt-key-file``, ``--jwt-secret-env``),
so that a ready token costs no crypto import.
"""

from __future__ import annotations

import secrets
import uuid
import warnings
from collections.abc import Callable, Mapping

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from gate.config.file import read_limited
from gate.config.tokens import (
    OTHER_AUDIENCE,
    OTHER_ISSUER,
    Credential,
    Negatives,
    TokenSpec,
    b64url,
    unsigned_variant,
)
from gate.errors import ConfigError
from gate.matching import Json

_EXPIRED_BY_S = 60
_CURVES: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}

# A short HMAC secret is the service's choice, not something the gate can fix;
# pyjwt's warning about it would only add noise to every run's stderr.
warnings.filterwarnings("ignore", message="The HMAC key is")


def _claims(spec: TokenSpec, now: float) -> dict[str, Json]:
    claims: dict[str, Json] = {
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


def _expired(claims: Mapping[str, Json], now: float, ttl_s: float) -> dict[str, Json]:
    issued = int(now - ttl_s - _EXPIRED_BY_S)
    expired = dict(claims)
    expired["iat"] = issued
    expired["nbf"] = issued - 5
    expired["exp"] = int(now - _EXPIRED_BY_S)
    expired["jti"] = uuid.uuid4().hex
    return expired


def from_secret(spec: TokenSpec, secret: str, clock: Callable[[], float]) -> Credential:
    """Mint an HS256 (or ``--jwt-algorithm`` HS384/HS512) token from ``secret``."""
    algorithm = spec.jwt_algorithm or "HS256"
    if not algorithm.startswith("HS"):
        raise ConfigError(
            f"--jwt-algorithm {algorithm} needs a key file: use --jwt-key-file, "
            "or HS256 with a secret"
        )
    return _minted(spec, clock(), secret, algorithm, f"${spec.jwt_secret_env}", (secret,))


def from_key_file(spec: TokenSpec, clock: Callable[[], float]) -> Credential:
    """Mint an RS256/ES256 (or ``--jwt-algorithm``) token with the PEM key of ``--jwt-key-file``."""
    path = spec.jwt_key_file
    assert path is not None
    pem = read_limited(path, "--jwt-key-file")
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
    try:
        return _minted(spec, clock(), key, algorithm, str(path), ())
    except (jwt.InvalidKeyError, NotImplementedError, ValueError, TypeError):
        raise ConfigError(
            f"--jwt-algorithm {algorithm} does not fit the key in {path}: use RS256 for RSA, "
            "ES256 for a P-256 EC key"
        ) from None


def _minted(
    spec: TokenSpec,
    now: float,
    key: str | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    algorithm: str,
    origin: str,
    more: tuple[str, ...],
) -> Credential:
    """A token signed with ``key``, and the forging of its negative variants."""
    claims = _claims(spec, now)
    token = jwt.encode(claims, key, algorithm=algorithm)

    def forge() -> Negatives:
        def signed(changes: Mapping[str, Json]) -> str:
            return jwt.encode({**claims, **changes}, key, algorithm=algorithm)

        return Negatives(
            wrong_key=_sign_with_stranger_key(claims, algorithm),
            unsigned=unsigned_variant(token),
            expired=jwt.encode(_expired(claims, now, spec.ttl_s), key, algorithm=algorithm),
            other_audience=signed({"aud": OTHER_AUDIENCE}) if spec.audience else None,
            other_issuer=signed({"iss": OTHER_ISSUER}) if spec.issuer else None,
        )

    def mint_with(changes: Mapping[str, Json]) -> str:
        return jwt.encode({**claims, **changes}, key, algorithm=algorithm)

    return Credential(
        token=token,
        source=f"minted {algorithm} from {origin}",
        algorithm=algorithm,
        secrets=(token, b64url(token), *more),
        forge=forge,
        mint_with=mint_with,
    )


def _sign_with_stranger_key(claims: Mapping[str, Json], algorithm: str) -> str:
    """The same claims signed by a fresh key the server cannot know."""
    fresh = dict(claims)
    fresh["jti"] = uuid.uuid4().hex
    if algorithm in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(fresh, rsa_key, algorithm=algorithm)
    if algorithm in _CURVES:
        return jwt.encode(fresh, ec.generate_private_key(_CURVES[algorithm]), algorithm=algorithm)
    # HMAC, and any algorithm pyjwt cannot sign with: a wrong HS256 signature still is one.
    hs = algorithm if algorithm in ("HS256", "HS384", "HS512") else "HS256"
    return jwt.encode(fresh, secrets.token_urlsafe(32), algorithm=hs)
