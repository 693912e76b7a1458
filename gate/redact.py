"""Redaction of secrets: when a transcript is recorded, and again at every output.

One :class:`Redactor` per command knows every secret of the run: header
values, tokens, signing secrets, the ID token of ``--iam``, webhook URLs. Each
is registered with the forms a server may reflect it in: the value itself, the
credential alone after a scheme (``Bearer S`` -> ``S``; ``Basic`` decoded too),
its URL-encoded and base64 forms, and for a JWT each of its three segments
(the signature among them), so that quoting one segment, or the signature in
full, reveals nothing.

The probes record through :meth:`Redactor.record`, which redacts *before*
cutting a text to its excerpt (a secret cut in half is no longer the secret,
and would slip through); the output boundary (every renderer and every file
written) runs :meth:`Redactor.text` over everything once more. That second
pass also masks the start of a secret left at the end of an already cut text,
and, as a last line of defence, anything shaped like a JWT.

Secrets of four characters or more are masked wherever they stand; shorter
ones (no secret is refused for being short) where they stand alone, between
characters that are not letters or digits, since masking every ``ab`` inside
other words would make the report unreadable without protecting anything.
Everything recorded is also sanitised of control characters.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

from gate.text import ELLIPSIS, excerpt, sanitize

REDACTED = "[redacted]"

_JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_SHORT = 4
_CUT = 8  # the shortest start of a secret masked at the end of a cut text
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9_-]*)\s+(?P<credential>\S+)$")


def _encodings(secret: str) -> set[str]:
    """The forms a value takes when a server or a proxy re-encodes it."""
    raw = secret.encode()
    standard = base64.b64encode(raw).decode()
    return {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        standard,
        standard.rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }


def _segments(token: str) -> set[str]:
    """Each segment of a JWT (header, claims, signature), or nothing for another token."""
    parts = token.split(".")
    return {part for part in parts if part} if len(parts) == 3 else set()


def _basic(credential: str) -> set[str]:
    """What a Basic credential carries: ``user:password``, and the password."""
    try:
        decoded = base64.b64decode(credential, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return set()
    return {decoded, decoded.partition(":")[2]} - {""}


class _Known:
    """The secrets registered so far, in the shapes the masking needs; never changed.

    ``joined`` holds every long secret in one string, so that "does this text end
    with the start of any secret?" is one search instead of one per secret;
    ``memo`` remembers what :meth:`Redactor.text` made of a text (the output
    boundary sees again what the probes already redacted).
    """

    def __init__(self, longs: Iterable[str] = (), shorts: frozenset[str] = frozenset()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self.longs: tuple[str, ...] = tuple(sorted(set(longs), key=len, reverse=True))
        self.joined = "\n".join(self.longs)
        self.shorts = shorts
        self.short: re.Pattern[str] | None = None
        if shorts:
            alternatives = "|".join(re.escape(s) for s in sorted(shorts, key=len, reverse=True))
            self.short = re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")
        self.memo: dict[str, str] = {}


_MEMO_LIMIT = 50_000  # texts remembered, at most
_MEMO_TEXT = 1024  # the longest text remembered (excerpts are 300 characters)


class Redactor:
    """Replaces known secrets, in every form registered, and JWT-shaped strings."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._known = _Known()
        self.frozen = False
        self.add(*secrets)

    def freeze(self) -> None:
        """Close the set of secrets: the run has registered all of them and its probes begin.

        Afterwards only a renewal (:meth:`add` with ``renewal=True``: an ID token renewed
        during a long rollout, registered before anything sends it) may join; any other
        new secret is a bug of the gate, which stops the run (exit 3) rather than let a
        probe record what the redactor did not know when it started.
        """
        self.frozen = True

    def add(self, *secrets: str, renewal: bool = False) -> None:
        """Register secrets with their encoded forms, and, for JWTs, their segments.

        What is known is replaced whole, never changed in place, so a probe thread
        reading it while the run registers more sees the old or the new one; a
        secret registered again (each target registers the shared ones) changes
        nothing.
        """
        forms: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            forms |= _encodings(secret)
            for segment in _segments(secret):
                forms |= _encodings(segment)
        known = self._known
        longs = {f for f in forms if len(f) >= _SHORT}
        shorts = known.shorts | {f for f in forms if len(f) < _SHORT}
        if longs <= set(known.longs) and shorts == known.shorts:
            return
        if self.frozen and not renewal:
            raise RuntimeError("a secret was registered after the redactor was frozen")
        self._known = _Known(longs | set(known.longs), shorts)

    def add_header(self, value: str, renewal: bool = False) -> None:
        """Register a header value, and the credential alone after its scheme."""
        self.add(value, renewal=renewal)
        match = _SCHEME.match(value.strip())
        if match is not None:
            credential = match["credential"]
            self.add(credential, renewal=renewal)
            if match["scheme"].lower() == "basic":
                self.add(*_basic(credential), renewal=renewal)

    def text(self, value: str) -> str:
        """``value`` with every registered secret masked, cut secrets included."""
        known = self._known
        done = known.memo.get(value)
        if done is not None:
            return done
        masked = value
        for secret in known.longs:
            if secret in masked:
                masked = masked.replace(secret, REDACTED)
        if known.short is not None:
            masked = known.short.sub(REDACTED, masked)
        masked = _JWT_SHAPE.sub(REDACTED, _mask_cut(masked, known))
        if len(value) <= _MEMO_TEXT and len(known.memo) < _MEMO_LIMIT:
            known.memo[value] = known.memo[masked] = masked
        return masked

    def record(self, value: str, limit: int | None = None) -> str:
        """What a probe keeps of a text a server sent: redacted, sanitised, then cut."""
        clean = sanitize(self.text(value))
        return clean if limit is None else excerpt(clean, limit)

    def reveals(self, value: str) -> bool:
        """True when ``value`` contains a registered secret (e.g. an echoed credential)."""
        known = self._known
        if any(secret in value for secret in known.longs):
            return True
        return known.short is not None and known.short.search(value) is not None

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A copy of ``headers`` with secrets masked in names and values alike."""
        return {self.record(name): self.record(value) for name, value in headers.items()}


def _mask_cut(value: str, known: _Known) -> str:
    """Mask the start of a secret that ends a text (a text cut short, with or without …).

    Only when the text's last ``_CUT`` characters occur in some secret at all
    (one search in ``known.joined``) are the secrets looked at one by one; the
    longest start of a secret the text ends with is masked.
    """
    cut = value.endswith(ELLIPSIS)
    head = value[: -len(ELLIPSIS)] if cut else value
    tail = head[-_CUT:]
    if len(tail) < _CUT or tail not in known.joined:
        return value
    for secret in known.longs:  # longest first
        start = secret.find(tail)
        while start >= 0:
            prefix = secret[: start + _CUT]
            if head.endswith(prefix):
                return head[: -len(prefix)] + REDACTED + (ELLIPSIS if cut else "")
            start = secret.find(tail, start + 1)
    return value
