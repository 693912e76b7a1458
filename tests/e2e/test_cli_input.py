"""Bad input: one line naming the value and what to do, exit code 2, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import GateRun

DEEP = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["check", "not a url"], {}, "must start with http:// or https://"),
        (["check", "ftp://example.com"], {}, "must start with http:// or https://"),
        (["check", "http://"], {}, "has no host"),
        (["check", "http://example.com:99999"], {}, "malformed"),
        (["check", "http://example.com?x=1"], {}, "query or fragment"),
        (["check", "http://u:p@example.com"], {}, "carries credentials"),
        (["check", "http://x", "--token-env", "MISSING_VAR"], {}, "MISSING_VAR is not set"),
        (["check", "http://x", "--jwt-secret-env", "NOPE"], {}, "NOPE is not set"),
        (["check", "http://x", "--jwt-key-file", "/nonexistent/key.pem"], {}, "cannot read it"),
        (
            ["check", "http://x", "--expect-body", "{bad json"],
            {},
            "--expect-body is not valid JSON",
        ),
        (["check", "http://x", "--header", "no-colon"], {}, "--header needs 'Name: value'"),
        (["check", "http://x", "--header", "Sec-WebSocket-Protocol: jwt.x"], {}, "negotiation"),
        (["check", "http://x", "--health-path", "health"], {}, "must be a path starting with '/'"),
        (["check", "http://x", "--subprotocol-template", "jwt"], {}, "no {token}"),
        (["check", "http://x", "--subprotocol-template", "{oops}"], {}, "no {token}"),
        (["check", "http://x", "--subprotocol-template", "a.{nope}.{token}"], {}, "only {token}"),
        (["check", "http://x", "--expect-subprotocol", "chat"], {}, "--subprotocol chat"),
        (["check", "http://x", "--jwt-claim", "novalue"], {}, "expected KEY=VALUE"),
        (["check", "http://x", "--ca-bundle", "/nonexistent.pem"], {}, "--ca-bundle"),
        (["check", "http://x", "--report-json", "/nonexistent/dir/r.json"], {}, "does not exist"),
        (["check", "http://a..b"], {}, "'a..b' is not a valid host name"),
        (["check", "http://-a.example"], {}, "is not a valid host name"),
        (["check", "http://x", "--header", "X-Price: 5 €"], {}, "only Latin-1"),
        (["check", "http://x", "--expect-body", DEEP], {}, "nested too deeply"),
        (["check", "http://x", "--jwt-claim", f"k={DEEP}"], {}, "nested too deeply"),
        (["check", "http://x", "--config", "/dev/zero"], {}, "larger than 1024 KiB"),
        (["check", "http://x", "--jwt-key-file", "/dev/zero"], {}, "larger than 1024 KiB"),
        (["check", "http://x", "--ca-bundle", "/dev/zero"], {}, "larger than 1024 KiB"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    gate: Callable[..., GateRun], args: list[str], env: dict[str, str], needle: str
) -> None:
    run = gate(*args, env=env)
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert needle in lines[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--deadline", "nan"], "'--deadline': 'nan' is not a finite number"),
        (["--read-timeout", "inf"], "'--read-timeout': inf is not in the range"),
        (["--jwt-ttl", "-inf"], "'--jwt-ttl': -inf is not in the range"),
        (["--deadline", "1e308"], "0.001<=x<=3600"),
        (["--connections", "1001"], "0<=x<=1000"),
        (["--samples", "100000"], "0<=x<=1000"),
    ],
)
def test_numbers_are_finite_and_bounded(
    gate_process: Callable[..., GateRun], args: list[str], needle: str
) -> None:
    """As the console script runs: click's refusal on one line, exit 2."""
    run = gate_process("check", "http://x", *args)
    assert run.exit_code == 2, run.stdout + run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    assert needle in run.stderr
    assert "see `gate check --help`" in run.stderr


def test_unreadable_key_content_is_named(gate: Callable[..., GateRun], tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("not a key")
    run = gate("check", "http://x", "--jwt-key-file", str(key))
    assert run.exit_code == 2
    assert "not an unencrypted PEM private key" in run.stderr


def test_click_usage_errors_exit_2(gate: Callable[..., GateRun]) -> None:
    run = gate("check")
    assert run.exit_code == 2
    assert "give the service URL, or [[targets]] in gate.toml" in run.stderr
    run = gate("check", "http://x", "--deadline", "-1")
    assert run.exit_code == 2


def test_secret_value_is_never_echoed_in_errors(gate: Callable[..., GateRun]) -> None:
    run = gate("check", "http://x", "--header", "X-Key: s3cr3t\nvalue")
    assert run.exit_code == 2
    assert "s3cr3t" not in run.stderr


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"deadline = 5\n\xff\xfe = 1\n", "not UTF-8 text"),
        (b"expect_body = '" + DEEP.encode() + b"'\n", "nested too deeply"),
        (b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n", "nested too deeply"),
        (b"deadline = nan\n", "finite"),
        (b"connections = 100000\n", "1000"),
    ],
)
def test_a_hostile_config_file_is_one_line_and_exit_2(
    gate_process: Callable[..., GateRun], tmp_path: Path, content: bytes, needle: str
) -> None:
    config = tmp_path / "gate.toml"
    config.write_bytes(content)
    run = gate_process("check", "http://x", "--config", str(config))
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert needle in run.stderr


def test_a_number_from_the_environment_is_checked_too(gate_process: Callable[..., GateRun]) -> None:
    run = gate_process("check", "http://x", env={"GATE_DEADLINE": "nan"})
    assert run.exit_code == 2, run.stdout + run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    assert "'nan' is not a finite number" in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hold", "4000"], "Invalid value for '--hold'"),
        (["--hold", "90", "--deadline", "60"],
         "--hold 90: longer than --deadline 60; raise --deadline above it"),
        (["--hold", "30", "--hold-interval", "0"],
         "--hold-interval 0: give a positive number of seconds"),
        (["--hold", "30", "--no-send"], "--hold with --no-send: give --hold-send"),
    ],
    ids=["above-an-hour", "beyond-the-deadline", "interval", "nothing-to-send"],
)  # fmt: skip
def test_bad_hold_input_is_one_line_and_exit_2_before_any_probe(
    gate_process: Callable[..., GateRun], args: list[str], message: str
) -> None:
    run = gate_process("check", "http://127.0.0.1:9", *args)
    assert run.exit_code == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert message in lines[0]


def test_socket_claims_need_a_token_the_gate_mints(
    gate_process: Callable[..., GateRun], tmp_path: Path
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text('[scenario.sockets.bob]\nclaims = { sub = "bob" }\n'
                      '[[scenario.steps]]\nsocket = "bob"\nsend = "hi"\n')  # fmt: skip
    run = gate_process("check", "http://127.0.0.1:9", "--config", str(config),
                       env={"GATE_TOKEN": "x" * 40})  # fmt: skip
    assert run.exit_code == 2, run.stdout + run.stderr
    assert "[scenario.sockets.bob]: claims need a token the gate mints" in run.stderr
