"""``gate.redact``: each form of a secret a server may reflect, stated as the expected output.

The encodings below are written out by hand for fixed secrets, so this test does not share the
redactor's way of deriving them: a form the redactor stopped producing fails here.
"""

from __future__ import annotations

import pytest

from gate.redact import REDACTED, Redactor
from gate.text import ELLIPSIS

SECRET = "p@ss word/+1"
BASIC = "Z2F0ZTpwNHNzdzByZA=="  # base64 of "gate:p4ssw0rd"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz"


@pytest.mark.parametrize(
    "reflected",
    [
        "p@ss word/+1",  # verbatim
        "p%40ss%20word%2F%2B1",  # URL-encoded, nothing safe
        "p%40ss%20word/%2B1",  # URL-encoded, "/" kept
        "p%40ss+word%2F%2B1",  # form-encoded
        "cEBzcyB3b3JkLysx",  # base64 (no padding needed)
    ],
)
def test_every_encoding_of_a_secret_is_masked(reflected: str) -> None:
    assert Redactor([SECRET]).text(f"got <{reflected}>") == f"got <{REDACTED}>"


@pytest.mark.parametrize(
    "reflected",
    ["eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiJhbGljZSJ9", "c2lnbmF0dXJlLWJ5dGVz", TOKEN],
    ids=["header", "claims", "signature", "whole"],
)
def test_each_segment_of_a_jwt_is_masked(reflected: str) -> None:
    assert Redactor([TOKEN]).text(f"[{reflected}]") == f"[{REDACTED}]"


def test_a_header_s_credential_is_masked_without_its_scheme_and_basic_decoded() -> None:
    redactor = Redactor()
    redactor.add_header(f"Basic {BASIC}")
    assert redactor.text(f"auth {BASIC}") == f"auth {REDACTED}"
    assert redactor.text("user gate:p4ssw0rd") == f"user {REDACTED}"
    assert redactor.text("password p4ssw0rd!") == f"password {REDACTED}!"


def test_a_basic_credential_that_is_not_base64_registers_the_credential_only() -> None:
    redactor = Redactor()
    redactor.add_header("Basic not*base64")
    assert redactor.text("x not*base64 y") == f"x {REDACTED} y"


def test_a_secret_cut_at_the_end_of_a_text_is_masked() -> None:
    redactor = Redactor(["Zb9Qx7-Lm2Wp4-Rt8Kd3"])
    assert redactor.text(f"token=Zb9Qx7-Lm2W{ELLIPSIS}") == f"token={REDACTED}{ELLIPSIS}"


def test_a_short_secret_is_masked_only_where_it_stands_alone() -> None:
    redactor = Redactor(["Zq7"])
    assert redactor.text("key Zq7, not in aZq7b") == f"key {REDACTED}, not in aZq7b"


def test_empty_secrets_are_ignored_and_a_repeat_changes_nothing() -> None:
    redactor = Redactor(["", SECRET])
    before = redactor.text(f"a {SECRET}")
    redactor.add(SECRET, "")
    assert redactor.text(f"a {SECRET}") == before == f"a {REDACTED}"
    assert redactor.reveals(f"x{SECRET}x")
    assert not redactor.reveals("nothing here")


def test_a_jwt_shape_is_masked_even_when_unknown() -> None:
    assert Redactor().text(f"Bearer {TOKEN}") == f"Bearer {REDACTED}"


def test_recorded_text_is_redacted_before_it_is_cut() -> None:
    recorded = Redactor([SECRET]).record(f"head {SECRET} tail", limit=12)
    assert SECRET not in recorded
    assert recorded.startswith(f"head {REDACTED}"[:11])


def test_a_frozen_redactor_takes_renewals_only() -> None:
    redactor = Redactor([SECRET])
    redactor.freeze()
    redactor.add(SECRET)  # known already: nothing changes
    with pytest.raises(RuntimeError, match="after the redactor was frozen"):
        redactor.add("a-secret-nobody-registered")
    redactor.add_header("Bearer renewed-id-token-0123", renewal=True)
    assert redactor.text("Bearer renewed-id-token-0123") == REDACTED
