"""Redaction as a property: whatever a server reflects, and however it is cut, no secret leaves.

The forms looked for are stated here for the fixed secrets (tests/test_redact.py pins the
redactor's forms one by one): each secret verbatim, the credential after its scheme, its
URL-encoded and base64 forms; for the tokens made during a run, each token, its base64 and
each JWT segment; and any 10-character piece of a credential or of a token's signature (a
secret cut short, at the excerpt or by the server).
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote

import jwt as pyjwt
import pytest

from gate.config.tokens import b64url
from gate.redact import REDACTED, Redactor
from gate.text import ELLIPSIS, EXCERPT
from tests.conftest import SECRET, GateRun
from tests.reflector import Reflector
from tests.servers import AiohttpServer, CloudThread, TokenEndpoint

CREDENTIAL = "Zb9Qx7-Lm2Wp4-Rt8Kd3"
SCHEMED = f"Bearer {CREDENTIAL}"
API_KEY = "k3Yq0fTz-77aaPm"
SHORT = "Zq7"
PIECE = 10


# The fixed secrets' forms, written out: verbatim, URL-encoded (safe="" and "/" kept, and
# form-encoded), standard base64 with and without padding, and URL-safe base64.
STATED: dict[str, set[str]] = {
    CREDENTIAL: {"Zb9Qx7-Lm2Wp4-Rt8Kd3", "WmI5UXg3LUxtMldwNC1SdDhLZDM=",
                 "WmI5UXg3LUxtMldwNC1SdDhLZDM"},
    SCHEMED: {"Bearer Zb9Qx7-Lm2Wp4-Rt8Kd3", "Bearer%20Zb9Qx7-Lm2Wp4-Rt8Kd3",
              "Bearer+Zb9Qx7-Lm2Wp4-Rt8Kd3", "QmVhcmVyIFpiOVF4Ny1MbTJXcDQtUnQ4S2Qz"},
    API_KEY: {"k3Yq0fTz-77aaPm", "azNZcTBmVHotNzdhYVBt"},
    SECRET: {"sandbox-secret-0123456789abcdef-XYZ",
             "c2FuZGJveC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZi1YWVo=",
             "c2FuZGJveC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZi1YWVo"},
}  # fmt: skip


def encodings(secret: str) -> set[str]:
    """A secret as a server may reflect it: the stated forms of a fixed secret; for a token
    made during the run, itself and its base64 (how the jwt.* subprotocol carries it; a
    token's characters are URL-safe, so URL-encoding leaves it as it is)."""
    if secret in STATED:
        return STATED[secret]
    raw = secret.encode()
    return {secret, base64.urlsafe_b64encode(raw).decode().rstrip("="),
            base64.b64encode(raw).decode().rstrip("=")}  # fmt: skip


def forms(secret: str) -> set[str]:
    """Every whole form of ``secret``: its encodings, and for a JWT, each segment's."""
    found = encodings(secret)
    if secret.count(".") == 2:
        for segment in filter(None, secret.split(".")):
            found |= encodings(segment)
    return found


def pieces(secret: str) -> set[str]:
    """Every ``PIECE``-character piece of ``secret`` (what a cut leaves of it)."""
    return {secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1)}


def leaks(text: str, secrets: Iterable[str], cut: Iterable[str], short: Iterable[str]) -> list[str]:
    """What ``text`` reveals: whole forms, pieces of the ``cut`` secrets, short values alone."""
    found = [f for s in secrets for f in forms(s) if len(f) >= 4 and f in text]
    found += [p for s in cut for p in pieces(s) if p in text]
    found += [
        s for s in short if re.search(rf"(?<![A-Za-z0-9]){re.escape(s)}(?![A-Za-z0-9])", text)
    ]
    return found


@pytest.mark.parametrize("mode", ["pass", "fail-http", "fail-close", "redirect-ws"])
def test_reflected_secrets_never_reach_any_output(
    mode: str, gate_process: Callable[..., GateRun], tmp_path: Path
) -> None:
    reflector = Reflector(SECRET, mode)
    files = {name: tmp_path / name for name in ("junit.xml", "summary.md", "outputs.txt")}
    paths = ["/h/3", "/h/11", "/h/40", *(["/redirect"] if mode == "fail-http" else [])]
    with AiohttpServer(reflector.app) as server:
        run = gate_process(
            "check", server.url, *(a for p in paths for a in ("--health-path", p)),
            "--header", f"Authorization: {SCHEMED}", "--header", f"X-Api-Key: {API_KEY}",
            "--header", f"X-Pin: {SHORT}", "--subprotocol", "chat.v1",
            "--junit", str(files["junit.xml"]),
            env={
                "GATE_JWT_SECRET": SECRET, "GITHUB_ACTIONS": "true",
                "GITHUB_STEP_SUMMARY": str(files["summary.md"]),
                "GITHUB_OUTPUT": str(files["outputs.txt"]), "RUNNER_TEMP": str(tmp_path),
            },
        )  # fmt: skip
    assert run.exit_code == (0 if mode == "pass" else 1), run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    if mode == "redirect-ws":
        assert run.check("ws.upgrade")["diagnosis"] == "upgrade_not_supported"
        assert "HTTP 301" in run.check("ws.upgrade")["summary"]
    assert reflector.tokens, "the gate sent no token: the test would prove nothing"
    assert set(reflector.headers.values()) >= {SCHEMED, API_KEY, SHORT}
    outputs = {
        "stdout": run.stdout,
        "stderr": run.stderr,
        "report": json.dumps(run.report, ensure_ascii=False),
        **{name: path.read_text() for name, path in files.items()},
    }
    assert REDACTED in outputs["report"], "nothing reflected reached the report"
    offered = [b64url(t) for t in reflector.tokens]
    signatures = [t.split(".")[2] for t in reflector.tokens]
    tails = [o[len(o) // 2 :] for o in offered]  # the part of the offered form that is unique
    for where, text in outputs.items():
        found = leaks(
            text,
            [SCHEMED, CREDENTIAL, API_KEY, SECRET, *reflector.tokens, *offered],
            [CREDENTIAL, API_KEY, SECRET, *signatures, *tails],
            [SHORT],
        )
        assert not found, f"{where} reveals {found}"


SECRETS = [SECRET, "Basic dXNlcjpwYXNzd29yZC0xMjM=", "ab", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlLXNlZ21lbnQtMTIzNDU2"]  # fmt: skip


@pytest.mark.parametrize("secret", SECRETS)
def test_a_secret_cut_at_any_offset_leaves_no_piece(secret: str) -> None:
    """The excerpt, or the server, may cut a secret anywhere: no piece of it survives."""
    redactor = Redactor()
    redactor.add_header(secret)
    for offset in range(EXCERPT + 2):
        text = "y" * offset + secret + " and the rest of the page"
        kept = redactor.record(text, EXCERPT)
        assert not leaks(kept, [secret], [secret] if len(secret) > PIECE else [], []), offset
    for length in range(PIECE, len(secret) + 1):
        server_cut = "the server said: " + secret[:length]
        for shown in (server_cut, server_cut + ELLIPSIS):
            assert not leaks(redactor.text(shown), [], [secret], []), length


def test_the_crash_net_redacts_a_bug_s_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    """A gate bug's traceback can quote what a server sent: it is redacted like any output."""
    from gate.cli.output import crash, watched

    token = pyjwt.encode({"sub": "ci"}, SECRET, algorithm="HS256")
    watched(Redactor()).add(token, CREDENTIAL)
    try:
        raise RuntimeError(f"a bug while reading http://h/ws/?t={b64url(token)}&c={CREDENTIAL}")
    except RuntimeError:
        with pytest.raises(SystemExit) as done:
            crash()
    assert done.value.code == 3
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "RuntimeError" in err
    assert not leaks(err, [token, CREDENTIAL], [CREDENTIAL, token.split(".")[2]], []), err


def test_short_secrets_are_masked_where_they_stand_alone() -> None:
    redactor = Redactor()
    redactor.add_header("ab")
    assert redactor.text("key=ab; next") == f"key={REDACTED}; next"
    assert redactor.text("tabs and labs") == "tabs and labs"


def test_a_scheme_and_basic_credentials_yield_their_parts() -> None:
    redactor = Redactor()
    redactor.add_header("Basic " + base64.b64encode(b"user:pa55-word").decode())
    for shown in ("pa55-word", "user:pa55-word", "dXNlcjpwYTU1LXdvcmQ", "dXNlcjpwYTU1LXdvcmQ="):
        assert REDACTED in redactor.text(f"x {shown} y"), shown


def test_log_samples_of_a_revision_that_logs_its_secrets_are_redacted(
    private_cloud: tuple[CloudThread, TokenEndpoint],
    gate: Callable[..., GateRun],
    tmp_path: Path,
) -> None:
    """A revision logging the token, its subprotocol form, a header value and the ID token."""
    cloud, tokens = private_cloud
    new = "svc-00002-new"
    cloud.deploy(new)
    ready = pyjwt.encode({"sub": "ci", "exp": int(time.time()) + 300}, SECRET, algorithm="HS256")

    def log(text: str) -> None:
        cloud.emulator.write_log("svc", new, text)

    def logs_id_token(token: str) -> None:
        log(f"403 for Authorization: Bearer {token}")
        log(f"audit: caller presented {quote('Bearer ' + token)} (signature {token.split('.')[2]})")

    tokens.on_issue = logs_id_token
    log(f"rejected token {ready}")
    log(f"offered protocols: jwt.{b64url(ready)}, chat.v1")
    log(f"header X-Api-Key={API_KEY} pin={SHORT}; scheme-less {CREDENTIAL}")
    files = {name: tmp_path / name for name in ("junit.xml", "summary.md", "outputs.txt")}
    run = gate(
        "verify", "--project", "demo-project", "--region", "europe-west1", "--service", "svc",
        "--subprotocol", "chat.v1", "--iam", "--log-settle", "0.2",
        "--header", f"X-Api-Key: {API_KEY}", "--header", f"X-Pin: {SHORT}",
        "--header", f"X-Auth: {SCHEMED}",
        "--report-json", str(tmp_path / "report.json"), "--junit", str(files["junit.xml"]),
        env={
            "GATE_TOKEN": ready, "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(files["summary.md"]),
            "GITHUB_OUTPUT": str(files["outputs.txt"]), "RUNNER_TEMP": str(tmp_path),
        },
    )  # fmt: skip
    assert run.exit_code == 1, run.stdout + run.stderr  # the errors fail the logs check
    assert tokens.issued, "no ID token was fetched: the test would prove nothing"
    outputs = {
        "stdout": run.stdout,
        "stderr": run.stderr,
        **{p.name: p.read_text() for p in [tmp_path / "report.json", *files.values()]},
    }
    assert "403 for Authorization: [redacted]" in outputs["report.json"], run.stdout
    signatures = [t.split(".")[2] for t in [ready, *tokens.issued]]
    for where, text in outputs.items():
        found = leaks(
            text,
            [ready, b64url(ready), API_KEY, SCHEMED, CREDENTIAL, *tokens.issued],
            [API_KEY, CREDENTIAL, *signatures],
            [SHORT],
        )
        assert not found, f"{where} reveals {found}"
