"""gate.toml and GATE_* variables: precedence flag > environment > file > default."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SECRET, GateRun


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


def _health_urls(run: GateRun) -> list[str]:
    assert run.report is not None
    return list(run.report["target"]["health_urls"])


def test_precedence_flag_env_file_default(
    sandbox: Any, gate: Callable[..., GateRun], in_tmp: Path
) -> None:
    url = sandbox().url
    env = {"GATE_JWT_SECRET": SECRET}
    assert _health_urls(gate("check", url, env=env)) == [f"{url}/health"]
    # One file serves check and verify: verify-only keys (project) are accepted.
    (in_tmp / "gate.toml").write_text('health-path = ["/api/health"]\nproject = "from-file"\n')
    assert _health_urls(gate("check", url, env=env)) == [f"{url}/api/health"]
    from_env = gate("check", url, env={**env, "GATE_HEALTH_PATH": "/health"})
    assert _health_urls(from_env) == [f"{url}/health"]
    from_flag = gate(
        "check", url, "--health-path", "/api/health", env={**env, "GATE_HEALTH_PATH": "/nope"}
    )
    assert _health_urls(from_flag) == [f"{url}/api/health"]


def test_explicit_config_and_url_from_file(
    sandbox: Any, gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    url = sandbox().url
    config = tmp_path / "ci.toml"
    config.write_text(f'url = "{url}"\nsubprotocol = ["chat.v1"]\nexpect_subprotocol = "chat.v1"\n')
    run = gate("check", "--config", str(config), env={"GATE_JWT_SECRET": SECRET})
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.check("ws.subprotocol")["status"] == "pass"


def test_unknown_key_is_named(gate: Callable[..., GateRun], tmp_path: Path) -> None:
    config = tmp_path / "gate.toml"
    config.write_text("deadline = 5\nhelth_path = ['/x']\n")
    run = gate("check", "http://127.0.0.1:9", "--config", str(config))
    assert run.exit_code == 2
    lines = [line for line in run.stderr.splitlines() if line]
    assert len(lines) == 1
    assert "unknown key 'helth_path'" in lines[0]


def test_invalid_toml_is_a_configuration_error(
    gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text("deadline = = 5\n")
    run = gate("check", "http://127.0.0.1:9", "--config", str(config))
    assert run.exit_code == 2
    assert "not valid TOML" in run.stderr


def test_env_headers_one_per_line(sandbox: Any, gate: Callable[..., GateRun]) -> None:
    server = sandbox()
    run = gate(
        "check",
        server.url,
        env={"GATE_JWT_SECRET": SECRET, "GATE_HEADER": "X-One: a b\nX-Two: c"},
    )
    assert run.exit_code == 0
    assert "a b" not in run.stdout


def test_variable_named_in_the_file_must_exist(
    gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text('token_env = "MY_MISSING_TOKEN"\n')
    run = gate("check", "http://127.0.0.1:9", "--config", str(config))
    assert run.exit_code == 2
    assert "MY_MISSING_TOKEN is not set" in run.stderr


def test_a_bad_value_names_the_file_and_key_or_the_variable(
    gate_process: Callable[..., GateRun], tmp_path: Path
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text('deadline = "ninety"\n')
    run = gate_process("check", "http://127.0.0.1:9", "--config", str(config))
    assert run.exit_code == 2
    assert run.stderr == (
        f"gate: error: {config}: deadline: 'ninety' is not a number: fix it there, or see "
        "`gate check --help`\n"
    )
    run = gate_process("check", "http://127.0.0.1:9", env={"GATE_DEADLINE": "abc"})
    assert run.stderr == (
        "gate: error: GATE_DEADLINE: 'abc' is not a number: fix it there, or see "
        "`gate check --help`\n"
    )
    run = gate_process("check", "http://127.0.0.1:9", "--connections", "1.5")
    assert run.stderr == (
        "gate: error: Invalid value for '--connections': '1.5' is not a whole number: see "
        "`gate check --help`\n"
    )


def test_a_string_for_a_repeatable_option_is_a_list_of_one(
    sandbox: Any, gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    url = sandbox().url
    config = tmp_path / "gate.toml"
    config.write_text('subprotocol = "chat.v1"\nexpect_subprotocol = "chat.v1"\n')
    run = gate("check", url, "--config", str(config), env={"GATE_JWT_SECRET": SECRET})
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.check("ws.subprotocol")["status"] == "pass"
    listed = gate("check", url, env={"GATE_JWT_SECRET": SECRET, "GATE_SUBPROTOCOL": "a.v1 chat.v1",
                                     "GATE_EXPECT_SUBPROTOCOL": "chat.v1"})  # fmt: skip
    assert listed.exit_code == 0, listed.stdout


def test_help_names_the_variable_and_the_file_key_of_every_option(
    gate_process: Callable[..., GateRun],
) -> None:
    from gate.cli.table import OPTIONS

    text = " ".join(gate_process("check", "--help").stdout.split())
    for option in OPTIONS:
        if "check" in option.commands and not option.argument:
            assert f"[env: {', '.join(option.envvars)}; gate.toml: {option.name}]" in text
