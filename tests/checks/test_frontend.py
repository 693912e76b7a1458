"""``gate.checks.frontend``: Cloud Run's front end told from the app by its answers' bodies."""

from __future__ import annotations

import pytest

from gate.checks.frontend import Platform, front_end_answer, front_end_hint, proxy_answer

GOOGLE = {"server": "Google Frontend"}


def _page(status: int, heading: str, text: str = "") -> str:
    return (f"<html><head><title>{status} {heading}</title></head><body><h1>Error: {heading}"
            f"</h1><h2>{text}</h2></body></html>")  # fmt: skip


@pytest.mark.parametrize(
    ("status", "headers", "body", "diagnosis"),
    [
        (429, GOOGLE, "Rate exceeded.", "frontend_rate_limited"),
        (429, GOOGLE, _page(429, "Too Many Requests"), "frontend_rate_limited"),
        (503, GOOGLE, _page(503, "Server Error"), "revision_unavailable"),
        (500, GOOGLE, _page(500, "Server Error", "The service you requested is not available "
                            "yet.<p>Please try again in 30 seconds."), "revision_unavailable"),
        (503, GOOGLE, "upstream connect error or disconnect/reset before headers. reset reason: "
                      "remote reset", "upstream_reset"),
        (403, GOOGLE, _page(403, "Forbidden", "Your client does not have permission to get URL "
                            "<code>/health</code> from this server."), "iam_denied"),
        (401, {**GOOGLE, "www-authenticate": 'Bearer error="invalid_token" error_description='
               '"The access token could not be verified"'}, _page(401, "Unauthorized"),
         "iam_token_rejected"),
        (503, GOOGLE, '{"status": "unhealthy"}', None),  # the app's own answer
        (403, GOOGLE, '{"error": "forbidden"}', None),
        (401, GOOGLE, _page(401, "Unauthorized"), None),  # no Bearer challenge: not IAM's
    ],
    ids=["rate-text", "rate-page", "503-page", "not-ready", "h2c-reset", "iam-403", "iam-401",
         "app-503", "app-403", "unchallenged-401"],
)  # fmt: skip
def test_answers(status: int, headers: dict[str, str], body: str, diagnosis: str | None) -> None:
    answer = front_end_answer(status, headers, body)
    assert (answer.diagnosis if answer else None) == diagnosis
    if answer is not None:
        assert answer.google


def test_the_header_alone_never_makes_an_answer_the_front_end_s() -> None:
    assert front_end_answer(500, GOOGLE, "Internal Server Error") is None


@pytest.mark.parametrize(
    ("status", "found"), [(502, True), (504, True), (503, False), (200, False)]
)
def test_proxies(status: int, found: bool) -> None:
    answer = proxy_answer(status, {})
    assert (answer is not None) == found
    if answer is not None:
        assert (answer.diagnosis, answer.google) == ("upstream_unavailable", False)


@pytest.mark.parametrize(
    ("where", "h2c", "words"),
    [("ws", True, "port is named h2c"), ("ws", False, "its port is not h2c"),
     ("ws", None, "end-to-end HTTP/2"), ("http", None, "reset the connection or crashed")],
)  # fmt: skip
def test_a_reset_s_hint_depends_on_what_is_known(where: str, h2c: bool | None, words: str) -> None:
    assert words in front_end_hint("upstream_reset", where, Platform(False, h2c))  # type: ignore[arg-type]


def test_with_iam_the_hint_says_the_gate_retried() -> None:
    assert "retried within --retry-budget" in front_end_hint("iam_denied", "http", Platform(True))
    assert "retried" not in front_end_hint("iam_denied", "http", Platform(False))
