"""Redaction of secrets at the moment a transcript is recorded.

Every probe receives one :class:`Redactor` that knows the run's secret values
(tokens, their base64url forms, the credential-bearing subprotocol, header
values, signing secrets). Anything a probe stores (exception text, response
headers, message bodies) passes through :meth:`Redactor.text` first, so the
transcript itself holds no secret and no renderer has to remember to redact.
As a second line of defence, anything shaped like a JWT is masked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

REDACTED = "[redacted]"

_JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_SHORTEST_SECRET = 4


class Redactor:
    """Replaces known secret values and JWT-shaped strings with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Register more secret values; very short values are ignored to avoid noise.

        The list is replaced, never changed in place, so a probe thread reading it
        while the run registers the negative tokens sees the old or the new list.
        """
        known = set(self._secrets)
        more = [s for s in secrets if len(s) >= _SHORTEST_SECRET and s not in known]
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted([*self._secrets, *dict.fromkeys(more)], key=len, reverse=True)

    def text(self, value: str) -> str:
        """Return ``value`` with every secret masked."""
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return _JWT_SHAPE.sub(REDACTED, value)

    def reveals(self, value: str) -> bool:
        """True when ``value`` contains a known secret (e.g. an echoed credential)."""
        return any(secret in value for secret in self._secrets)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Return a copy of ``headers`` with secret-bearing values masked."""
        return {name: self.text(value) for name, value in headers.items()}
