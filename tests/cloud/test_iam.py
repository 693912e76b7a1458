"""``--iam`` for every way people authenticate, through google-auth and google-cloud-iam.

The emulated token endpoints (:mod:`gate.sandbox.tokens`) answer the STS token
exchange and the service-account impersonation an ``external_account`` file
names by URL, and IAM Credentials ``generateIdToken``, so the real libraries'
code runs from the credential file to the ID token.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from gate.cloud.calls import Budget
from gate.cloud.iam import RENEW_BEFORE_S, IdTokens
from gate.sandbox.tokens import SIGNING_KEY, TokenService
from gate.timing import Deadline
from tests.conftest import NEW, GateRun
from tests.servers import CloudThread

SA = "gate@demo-project.iam.gserviceaccount.com"
PLAIN = ["--subprotocol", "chat.v1", "--expect-subprotocol", "chat.v1", "--log-settle", "0.2"]
USER_TOKEN = "ya29.a-developer-s-own-access-token"


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> Iterator[TokenService]:
    service = TokenService(allowed={SA})
    service.start()
    monkeypatch.setenv("GATE_IAMCREDENTIALS_ENDPOINT", service.url)
    yield service
    service.stop()


def _wif_file(folder: Path, tokens: TokenService, impersonate: bool = True) -> Path:
    """What google-github-actions/auth writes for Workload Identity Federation."""
    subject = folder / "github-oidc.jwt"
    subject.write_text(jwt.encode({"sub": "repo:org/app:ref:refs/heads/main"}, "gh" * 16))
    info = {
        "type": "external_account",
        "audience": "//iam.googleapis.com/projects/123456/locations/global/"
        "workloadIdentityPools/github/providers/app",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": f"{tokens.url}/v1/token",
        "credential_source": {"file": str(subject)},
    }
    if impersonate:
        info["service_account_impersonation_url"] = (
            f"{tokens.url}/v1/projects/-/serviceAccounts/{SA}:generateAccessToken"
        )
    path = folder / "wif.json"
    path.write_text(json.dumps(info))
    return path


def _user_file(folder: Path, tokens: TokenService) -> Path:
    """`gcloud auth application-default login`'s file, holding a still valid access token."""
    tokens.accept(USER_TOKEN)
    expiry = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = folder / "adc.json"
    path.write_text(json.dumps({
        "type": "authorized_user", "client_id": "1.apps.googleusercontent.com",
        "client_secret": "d-secret", "refresh_token": "1//refresh", "token": USER_TOKEN,
        "expiry": expiry,
    }))  # fmt: skip
    return path


def _id_token_calls(tokens: TokenService) -> list[dict[str, object]]:
    return [c.body for c in tokens.calls if c.path.endswith(":generateIdToken")]


def _assert_token_used_and_hidden(run: GateRun, tokens: TokenService, audience: str) -> None:
    assert tokens.issued, "no ID token was minted"
    claims = jwt.decode(tokens.issued[-1], SIGNING_KEY, algorithms=["HS256"], audience=audience)
    assert claims["email"] == SA
    text = run.stdout + run.stderr + json.dumps(run.report)
    for token in tokens.issued:
        assert token not in text
        assert token.split(".")[2] not in text


def test_workload_identity_federation_gets_an_id_token(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tokens: TokenService,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(_wif_file(tmp_path, tokens)))
    cloud.deploy(NEW)
    run = gate_cloud("verify", *PLAIN, "--iam")
    assert run.exit_code == 0, run.stdout + run.stderr
    exchange = [c for c in tokens.calls if c.path == "/v1/token"]
    assert exchange, "the STS token exchange was not called"
    [body] = _id_token_calls(tokens)
    assert body == {"audience": cloud.local.url, "includeEmail": True}
    minted = next(c for c in tokens.calls if c.path.endswith(":generateIdToken"))
    assert minted.account == SA
    assert minted.bearer, "generateIdToken was called without the federated token"
    _assert_token_used_and_hidden(run, tokens, cloud.local.url)


def test_federation_without_a_service_account_needs_impersonation(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tokens: TokenService,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    path = _wif_file(tmp_path, tokens, impersonate=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    cloud.deploy(NEW)
    refused = gate_cloud("verify", *PLAIN, "--iam")
    assert refused.exit_code == 2, refused.stdout + refused.stderr
    assert "--impersonate-service-account" in refused.stderr
    run = gate_cloud("verify", *PLAIN, "--iam", "--impersonate-service-account", SA)
    assert run.exit_code == 0, run.stdout + run.stderr
    _assert_token_used_and_hidden(run, tokens, cloud.local.url)


def test_a_developer_s_gcloud_login_with_impersonation(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tokens: TokenService,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(_user_file(tmp_path, tokens)))
    cloud.deploy(NEW)
    alone = gate_cloud("verify", *PLAIN, "--iam")
    assert alone.exit_code == 2, alone.stdout + alone.stderr
    assert "user credentials" in alone.stderr
    assert "--impersonate-service-account" in alone.stderr
    run = gate_cloud("verify", *PLAIN, "--iam", "--impersonate-service-account", SA)
    assert run.exit_code == 0, run.stdout + run.stderr
    minted = next(c for c in tokens.calls if c.path.endswith(":generateIdToken"))
    assert (minted.account, minted.bearer) == (SA, USER_TOKEN)
    _assert_token_used_and_hidden(run, tokens, cloud.local.url)


def test_impersonating_an_account_one_may_not_is_exit_3_naming_the_role(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tokens: TokenService,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(_user_file(tmp_path, tokens)))
    cloud.deploy(NEW)
    other = "other@demo-project.iam.gserviceaccount.com"
    run = gate_cloud("verify", *PLAIN, "--iam", "--impersonate-service-account", other)
    assert run.exit_code == 3, run.stdout + run.stderr
    assert "roles/iam.serviceAccountTokenCreator" in run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr


def test_a_ready_id_token_is_used_as_it_is(
    cloud: CloudThread, gate_cloud: Callable[..., GateRun], tokens: TokenService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    ready = jwt.encode({"aud": "x", "exp": int(time.time()) + 3600}, SIGNING_KEY)
    monkeypatch.setenv("GATE_ID_TOKEN", ready)
    cloud.deploy(NEW)
    run = gate_cloud("verify", *PLAIN, "--iam")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert not tokens.calls, "a ready ID token was minted anew"
    assert ready not in run.stdout + run.stderr + json.dumps(run.report)


@pytest.mark.parametrize(
    ("args", "variables", "needle"),
    [
        (["--impersonate-service-account", "gate@example.com"], {}, "not a service account"),
        (["--impersonate-service-account", "not an email"], {}, "not a service account"),
        ([], {"GATE_ID_TOKEN": ""}, "GATE_ID_TOKEN is empty"),
        (["--id-token-env", "CI_ID_TOKEN"], {}, "CI_ID_TOKEN is not set"),
    ],
)
def test_bad_iam_input_is_one_line_before_any_call(
    cloud: CloudThread, gate_process: Callable[..., GateRun], args: list[str],
    variables: dict[str, str], needle: str,
) -> None:  # fmt: skip
    cloud.deploy(NEW)
    calls = len(cloud.emulator.calls)
    run = gate_process(
        "verify", "--project", "demo-project", "--region", "europe-west1", "--service", "svc",
        *PLAIN, "--iam", *args, env={**cloud.env, **variables},
    )  # fmt: skip
    assert run.exit_code == 2, run.stdout + run.stderr
    assert needle in run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    assert len(cloud.emulator.calls) == calls, "a call was made before the input was checked"


def test_a_minted_token_is_renewed_before_and_after_it_expires(
    tokens: TokenService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(_user_file(tmp_path, tokens)))
    now = [time.time()]
    source = IdTokens("https://svc.a.run.app", SA, clock=lambda: now[0], endpoint=tokens.url)

    def token() -> str:
        return asyncio.run(source.token(Budget(Deadline(10)))).token

    first = token()
    assert token() == first
    assert len(_id_token_calls(tokens)) == 1
    expires = jwt.decode(first, SIGNING_KEY, algorithms=["HS256"], audience=source.audience)["exp"]
    now[0] = expires - RENEW_BEFORE_S + 1  # less than five minutes left
    assert not source.fresh()
    token()
    assert len(_id_token_calls(tokens)) == 2
    now[0] = expires + 3600 + 60  # past the expiry of the renewed one too
    token()
    assert len(_id_token_calls(tokens)) == 3
    assert source.minted == 3
