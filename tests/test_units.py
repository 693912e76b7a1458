"""Pure layers tested on hand-built inputs: checks, health documents, matching, tokens, redaction."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gate.checks.auth import judge_auth
from gate.checks.healthdoc import read_health
from gate.checks.websocket import close_text, judge_first_message, judge_subprotocol
from gate.config.tokens import TokenSpec, b64url, load_credential, parse_claim
from gate.errors import ConfigError
from gate.matching import json_subset, looks_like_error, message_matcher
from gate.probes.retry import RetryPolicy
from gate.probes.transcript import (
    AuthProbe,
    Exchange,
    Handshake,
    WsAttempt,
    WsClose,
    WsMessage,
    WsSession,
)
from gate.redact import REDACTED, Redactor


def _session(
    *,
    offered: tuple[str, ...] = ("jwt.[redacted]", "chat.v1"),
    selected: str | None = "chat.v1",
    selected_index: int | None = 1,
    exchange: Exchange | None = None,
    status: int = 101,
    error: str | None = None,
) -> WsSession:
    from gate.probes.transcript import ProbeError

    attempt = WsAttempt(
        started_ms=1.0,
        duration_ms=5.0,
        connect_ms=1.0,
        handshake=Handshake(status, {}, ""),
        error=ProbeError(error, "x") if error else None,  # type: ignore[arg-type]
    )
    return WsSession(
        label="valid credential",
        url="ws://h/ws",
        offered=offered,
        credential_at=0,
        attempts=(attempt,),
        duration_ms=5.0,
        selected=selected,
        selected_index=selected_index,
        exchange=exchange,
    )


def _message(text: str, matched: bool, error_like: bool = False) -> WsMessage:
    return WsMessage(1.0, text, len(text), False, matched, error_like)


def test_subprotocol_selected_credential_warns() -> None:
    result = judge_subprotocol(_session(selected="jwt.[redacted]", selected_index=0), None)
    assert result.status == "warn"
    assert result.warnings[0].code == "credential_echoed"


def test_subprotocol_none_offered_but_selected_is_unexpected() -> None:
    result = judge_subprotocol(_session(offered=(), selected="jwt.x", selected_index=None), None)
    assert result.diagnosis == "subprotocol_unexpected"
    assert "hand-written" in (result.hint or "")


def test_subprotocol_skipped_when_nothing_offered_or_selected() -> None:
    result = judge_subprotocol(_session(offered=(), selected=None, selected_index=None), None)
    assert result.status == "skip"


def test_first_message_close_1000_is_closed_by_server() -> None:
    exchange = Exchange(
        '{"type":"ping"}', 150.0, (), 0, False, WsClose(1000, "main cleanup", "server")
    )
    result = judge_first_message(_session(exchange=exchange), None, 10)
    assert result.diagnosis == "closed_by_server"
    assert '1000 (OK) "main cleanup" 0.15 s after the first message' in result.summary


def test_first_message_drop_without_close_frame() -> None:
    exchange = Exchange("x", 3.0, (), 0, False, WsClose(1006, "", "none"))
    result = judge_first_message(_session(exchange=exchange), None, 10)
    assert result.diagnosis == "server_error_close"
    assert "without a close frame" in result.summary


def test_first_message_policy_violation_is_a_rejected_credential() -> None:
    """Issue 10 gave 1008 its own diagnosis (it was server_error_close with a hint)."""
    exchange = Exchange("x", 3.0, (), 0, False, WsClose(1008, "bad token", "server"))
    result = judge_first_message(_session(exchange=exchange), None, 10)
    assert result.diagnosis == "credential_rejected"
    assert "1008 (policy violation)" in result.summary
    assert "secret or key was rotated" in (result.hint or "")


@pytest.mark.parametrize("code", [4001, 4003, 4401, 4403])
def test_application_auth_closes_are_rejected_credentials(code: int) -> None:
    exchange = Exchange("x", 3.0, (), 0, False, WsClose(code, "", "server"))
    assert judge_first_message(_session(exchange=exchange), None, 10).diagnosis == (
        "credential_rejected"
    )


def test_other_application_close_is_a_server_error() -> None:
    exchange = Exchange("x", 3.0, (), 0, False, WsClose(4500, "", "server"))
    assert judge_first_message(_session(exchange=exchange), None, 10).diagnosis == (
        "server_error_close"
    )


def test_first_message_skipped_when_not_upgraded() -> None:
    result = judge_first_message(_session(status=403, error="upgrade_status"), None, 10)
    assert result.status == "skip"
    assert result.duration_ms == 0


def test_auth_error_reply_is_a_refusal_but_a_real_reply_is_service() -> None:
    def variant(message: WsMessage) -> WsSession:
        return _session(exchange=Exchange("x", 2.0, (message,), 0, True))

    error_reply = variant(_message('{"type":"error"}', True, error_like=True))
    served = variant(_message('{"type":"pong"}', True))
    main = _session(exchange=Exchange("x", 2.0, (_message("{}", True),), 0, True))
    ok = judge_auth(main, AuthProbe((error_reply,), 3.0), expect_given=False, skip_reason=None)
    assert ok.status == "pass"
    bad = judge_auth(main, AuthProbe((served,), 3.0), expect_given=False, skip_reason=None)
    assert bad.diagnosis == "auth_not_enforced"
    # With --expect, a matching reply is service whatever it says.
    strict = judge_auth(main, AuthProbe((error_reply,), 3.0), expect_given=True, skip_reason=None)
    assert strict.diagnosis == "auth_not_enforced"


def test_close_text_names_codes() -> None:
    assert close_text(1011, "") == "1011 (internal error)"
    assert close_text(4001, "x") == '4001 (application-defined) "x"'


@pytest.mark.parametrize(
    ("body", "fmt", "deps"),
    [
        ({"status": "healthy", "checks": {"redis": {"status": "healthy"}}}, "status", {"redis"}),
        ({"status": "ok", "checks": {"db": "down"}}, "status", {"db"}),
        (
            {
                "status": "UP",
                "components": {"a": {"status": "UP", "components": {"b": {"status": "DOWN"}}}},
            },
            "spring",
            {"a", "a/b"},
        ),
        (
            {"status": "pass", "checks": {"db:rt": [{"componentId": "x", "status": "fail"}]}},
            "health+json",
            {"db:rt (x)"},
        ),
    ],
)
def test_health_formats(body: dict[str, object], fmt: str, deps: set[str]) -> None:
    reading = read_health(body)
    assert reading is not None
    assert reading.format == fmt
    assert {d.name for d in reading.dependencies} == deps


def test_non_health_json_is_not_a_reading() -> None:
    assert read_health({"hello": "world"}) is None
    assert read_health([1, 2]) is None


def test_json_subset() -> None:
    assert json_subset({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}, "d": 3})
    assert not json_subset({"a": 1}, {"a": 2})
    assert json_subset({"items": [{"id": 2}]}, {"items": [{"id": 1}, {"id": 2, "x": 0}]})
    assert not json_subset({"a": True}, {"a": 1})


def test_message_matcher_json_or_substring() -> None:
    assert message_matcher('{"type": "pong"}')('{"type": "pong", "ts": 1}')
    assert not message_matcher('{"type": "pong"}')("pong")
    assert message_matcher("pong")('{"type": "pong"}')
    assert message_matcher(None)("anything")


def test_looks_like_error() -> None:
    assert looks_like_error('{"type": "auth_error"}')
    assert looks_like_error('{"error": "nope"}')
    assert not looks_like_error('{"type": "pong"}')


def test_redactor_masks_secrets_and_jwt_shapes() -> None:
    redactor = Redactor(["topsecret"])
    token = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256")
    text = redactor.text(f"a topsecret b {token} c")
    assert "topsecret" not in text
    assert token not in text
    assert text.count(REDACTED) == 2
    assert redactor.reveals("xx topsecret")


def test_retry_policy_backoff_stays_within_budget() -> None:
    def final(_outcome: object) -> None:
        return None

    assert sum(RetryPolicy(5, final).delays()) <= 5
    assert RetryPolicy(0, final).delays() == []
    assert RetryPolicy(30, final).delays()[:4] == [0.25, 0.5, 1.0, 2.0]


def test_minted_hs256_token_claims_and_variants() -> None:
    now = time.time()
    spec = TokenSpec(subject="ci", audience="api", issuer="gate", claims={"role": "admin"})
    credential = load_credential(spec, {"GATE_JWT_SECRET": "s" * 32}, clock=lambda: now)
    assert credential is not None
    claims = jwt.decode(credential.token, "s" * 32, algorithms=["HS256"], audience="api")
    assert claims["sub"] == "ci"
    assert claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 300
    assert claims["jti"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(credential.wrong_key_token, "s" * 32, algorithms=["HS256"], audience="api")
    assert credential.expired_token is not None
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(credential.expired_token, "s" * 32, algorithms=["HS256"], audience="api")
    assert "s" * 32 in credential.secrets


@pytest.mark.parametrize(
    ("make_key", "algorithm"),
    [
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
        (lambda: ec.generate_private_key(ec.SECP256R1()), "ES256"),
    ],
)
def test_key_file_minting(tmp_path: Path, make_key: object, algorithm: str) -> None:
    key = make_key()  # type: ignore[operator]
    path = tmp_path / "key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    credential = load_credential(TokenSpec(jwt_key_file=path), {})
    assert credential is not None
    assert credential.algorithm == algorithm
    jwt.decode(credential.token, key.public_key(), algorithms=[algorithm])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(credential.wrong_key_token, key.public_key(), algorithms=[algorithm])


def test_token_sources_and_precedence() -> None:
    assert load_credential(TokenSpec(), {}) is None
    ready = load_credential(TokenSpec(), {"GATE_TOKEN": "opaque-token-value"})
    assert ready is not None
    assert ready.token == "opaque-token-value"
    assert ready.expired_token is None
    both = load_credential(TokenSpec(), {"GATE_TOKEN": "t" * 10, "GATE_JWT_SECRET": "s" * 32})
    assert both is not None
    assert both.token == "t" * 10
    with pytest.raises(ConfigError, match="not both"):
        load_credential(TokenSpec(token_env_explicit=True, jwt_secret_env_explicit=True), {})


def test_parse_claim() -> None:
    assert parse_claim("n=3") == ("n", 3)
    assert parse_claim("s=text") == ("s", "text")
    assert parse_claim("l=[1,2]") == ("l", [1, 2])


def test_b64url_has_no_padding() -> None:
    assert b64url("ab") == "YWI"
