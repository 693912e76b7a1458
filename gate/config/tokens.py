"""The credential the gate presents: where it comes from, and the negative variants.

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
``ws.auth_enforced`` check on first use (:attr:`Credential.negatives`): the
same claims signed by a key the server cannot know, and (when the gate mints)
a token that expired a minute ago. Minting uses pyjwt, in
:mod:`gate.config.mint`; a ready token needs no crypto library at all, since
its negative variant keeps its header and claims and replaces its signature.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gate.errors import ConfigError
from gate.matching import Json
from gate.model import UNSIGNED


def b64url_bytes(data: bytes) -> str:
    """base64url of ``data`` without padding, as JWT segments are written."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url(token: str) -> str:
    """base64url of ``token`` without padding: the ``{token_b64url}`` placeholder."""
    return b64url_bytes(token.encode())


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
    claims: Mapping[str, Json] = field(default_factory=dict)
    ttl_s: float = 300.0


@dataclass(frozen=True)
class Negatives:
    """The tokens the socket must refuse.

    ``wrong_key``: the claims signed by a key the server cannot hold; ``unsigned``:
    the claims with ``alg: none`` and no signature; when the gate mints:
    ``expired``, and with ``--jwt-audience`` / ``--jwt-issuer`` a correctly
    signed token for another audience (``other_audience``) and from another
    issuer (``other_issuer``).
    """

    wrong_key: str
    unsigned: str
    expired: str | None = None
    other_audience: str | None = None
    other_issuer: str | None = None

    def labelled(self) -> list[tuple[str, str]]:
        """``(label, token)`` of every negative token, as the report names them."""
        tokens = [
            ("token signed by a wrong key", self.wrong_key),
            ("expired token", self.expired),
            (UNSIGNED, self.unsigned),
            ("token for another audience", self.other_audience),
            ("token from another issuer", self.other_issuer),
        ]
        return [(label, token) for label, token in tokens if token is not None]


OTHER_AUDIENCE = "other-audience.smoke-gate.invalid"
OTHER_ISSUER = "other-issuer.smoke-gate.invalid"


def unsigned_variant(token: str) -> str:
    """The claims of ``token`` under an ``alg: none`` header, with an empty signature."""
    header = b64url_bytes(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = token.split(".")[1] if token.count(".") == 2 else b64url(token)
    return f"{header}.{payload}."


@dataclass(frozen=True)
class Credential:
    """A token ready to present, and how to forge the negative variants that test enforcement."""

    token: str
    source: str
    algorithm: str
    secrets: tuple[str, ...]
    forge: Callable[[], Negatives] = field(repr=False, compare=False)
    mint_with: Callable[[Mapping[str, Json]], str] | None = field(
        default=None, repr=False, compare=False
    )
    """Sign the same claims with ``changes`` over them (a minted credential only)."""
    _with: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def token_with(self, changes: Mapping[str, Json], where: str) -> str:
        """The token with ``changes`` over its claims (a scenario socket's own user), minted
        once: the run registers it as a secret before any probe, then sends the same one."""
        if self.mint_with is None:
            raise ConfigError(
                f"{where}: claims need a token the gate mints (--jwt-secret-env or "
                "--jwt-key-file), not a ready one"
            )
        key = json.dumps(changes, sort_keys=True)
        if key not in self._with:
            self._with[key] = self.mint_with(changes)
        return self._with[key]

    @functools.cached_property
    def negatives(self) -> Negatives:
        """The negative tokens, forged on first use (an RSA key takes a while: not on the loop)."""
        return self.forge()

    @property
    def wrong_key_token(self) -> str:
        """The same claims signed by a key the server cannot know."""
        return self.negatives.wrong_key

    @property
    def expired_token(self) -> str | None:
        """A token that expired a minute ago (``None`` for a ready token)."""
        return self.negatives.expired


def load_credential(
    spec: TokenSpec,
    env: Mapping[str, str],
    clock: Callable[[], float] = time.time,
) -> Credential | None:
    """Resolve ``spec`` into a :class:`Credential`, or ``None`` when none is configured;
    ``env``: the environment as the CLI read it (Secret Manager references resolved)."""
    if spec.token_env_explicit and spec.jwt_secret_env_explicit:
        raise ConfigError(
            "--token-env and --jwt-secret-env both given: use a ready token or mint one, not both"
        )
    if spec.jwt_key_file is not None:
        from gate.config import mint

        return mint.from_key_file(spec, clock)
    if spec.jwt_secret_env_explicit:
        from gate.config import mint

        return mint.from_secret(spec, _required_env(env, spec.jwt_secret_env), clock)
    if spec.token_env_explicit or env.get(spec.token_env):
        return _ready_token(spec, _required_env(env, spec.token_env))
    if env.get(spec.jwt_secret_env):
        from gate.config import mint

        return mint.from_secret(spec, env[spec.jwt_secret_env], clock)
    return None


def _required_env(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise ConfigError(f"environment variable {name} is not set or empty: export it first")
    return value


def _header_algorithm(token: str) -> str | None:
    """The ``alg`` of a JWT's header, read without verifying anything; ``None``: not a JWT."""
    head = token.split(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return None
    if token.count(".") != 2 or not isinstance(header, dict):
        return None
    return str(header.get("alg", "HS256"))


def _wrong_signature(token: str) -> Negatives:
    """A ready token with its signature replaced by random bytes of the same length.

    Header (``kid`` included) and claims stay as they are, so the server looks up
    its real key and must refuse the signature: what a token signed by a key it
    does not hold looks like. An opaque token's variant is a random opaque token.
    """
    if _header_algorithm(token) is None:
        opaque = secrets.token_urlsafe(max(16, len(token) * 3 // 4))
        return Negatives(opaque, unsigned_variant(opaque))
    signed, _dot, signature = token.rpartition(".")
    size = max(32, len(signature) * 3 // 4)
    return Negatives(f"{signed}.{b64url_bytes(secrets.token_bytes(size))}", unsigned_variant(token))


def _ready_token(spec: TokenSpec, token: str) -> Credential:
    algorithm = _header_algorithm(token)
    kind = "token" if algorithm is not None else "opaque token"
    return Credential(
        token=token,
        source=f"{kind} from ${spec.token_env}",
        algorithm=algorithm or "opaque",
        secrets=(token, b64url(token)),
        forge=lambda: _wrong_signature(token),
    )


def parse_claim(item: str) -> tuple[str, Json]:
    """Parse ``--jwt-claim KEY=VALUE``; VALUE is JSON when it parses, else a string."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--jwt-claim {item!r}: expected KEY=VALUE, e.g. --jwt-claim role=admin")
    try:
        value: Json = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    except RecursionError:
        raise ConfigError(f"--jwt-claim {key.strip()}: the JSON is nested too deeply") from None
    return key.strip(), value
