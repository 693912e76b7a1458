"""The GitHub Action: its inputs are the options table, and its script passes only what is set.

The action's last step runs ``python -m gate.cli.action`` with ``toJSON(inputs)``;
these tests run that same script, as a process, with the inputs GitHub would
give it: action.yml's defaults, overridden by what a workflow sets.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gate.cli.action import ACTION_INPUTS, input_name, inputs_of
from tests.conftest import NEW, SECRET
from tests.servers import CloudThread

ROOT = Path(__file__).parents[2]
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "pipelines" / "github-actions" / "deploy.yml"
PUBLISHED = "smoke-gate/smoke-gate@v0.3.0"


def _defaults() -> dict[str, str]:
    inputs = yaml.safe_load(ACTION.read_text())["inputs"]
    return {name: str(spec.get("default", "")) for name, spec in inputs.items()}


@dataclass
class ActionRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    report: dict[str, Any] | None


def run_action(
    inputs: Mapping[str, str], folder: Path, env: Mapping[str, str] | None = None
) -> ActionRun:
    """The action's script, as the action's last step runs it."""
    outputs = folder / "github-output.txt"
    outputs.write_text("")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GATE_")}
    full_env.update(
        {
            "GATE_ACTION_INPUTS": json.dumps({**_defaults(), **inputs}),
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(outputs),
            "RUNNER_TEMP": str(folder),
            "GATE_JWT_SECRET": SECRET,
            **(env or {}),
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "gate.cli.action"],
        cwd=folder, env=full_env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    report = folder / "gate-report.json"
    data = json.loads(report.read_text()) if report.exists() else None
    return ActionRun(done.returncode, done.stdout, done.stderr, values, data)


def _command(run: ActionRun) -> str:
    line = next(line for line in run.stdout.splitlines() if line.startswith("smoke-gate action:"))
    return line.removeprefix("smoke-gate action: ")


def test_every_option_is_an_input_and_every_input_an_option() -> None:
    inputs = yaml.safe_load(ACTION.read_text())["inputs"]
    expected = {input_name(o) for o in inputs_of()} | set(ACTION_INPUTS)
    assert set(inputs) == expected
    gate_inputs = set(inputs) - {"python-version"}
    assert all(inputs[name]["default"] == "" for name in gate_inputs), "an input has a default"


def test_action_yml_is_generated_from_the_table() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import action_yml
    finally:
        sys.path.remove(str(ROOT / "tools"))
    assert ACTION.read_text() == action_yml.render(), "run: python tools/action_yml.py"


def test_no_input_leaves_gate_toml_in_charge(sandbox: Any, tmp_path: Path) -> None:
    server = sandbox()
    (tmp_path / "gate.toml").write_text(
        'health_path = ["/api/health"]\nsubprotocol = ["chat.v1"]\njunit = "gate-junit.xml"\n'
    )
    run = run_action({"command": "check", "url": server.url}, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert _command(run) == f"gate check {server.url}"
    assert run.report is not None
    assert run.report["target"]["health_urls"] == [f"{server.url}/api/health"]
    assert run.outputs["exit-code"] == "0"
    assert run.outputs["verdict"] == "pass"
    assert run.outputs["junit"] == str(tmp_path / "gate-junit.xml")
    assert (tmp_path / "gate-junit.xml").exists()


def test_one_input_is_exactly_one_flag(sandbox: Any, tmp_path: Path) -> None:
    server = sandbox()
    run = run_action({"command": "check", "url": server.url, "deadline": "7"}, tmp_path)
    assert _command(run) == f"gate check {server.url} --deadline 7"
    assert run.outputs["exit-code"] == str(run.code)
    assert "junit" not in run.outputs


def test_repeatable_and_secret_inputs(sandbox: Any, tmp_path: Path) -> None:
    server = sandbox()
    inputs = {
        "command": "check", "url": server.url, "subprotocol": "chat.v1\n",
        "header": "X-Api-Key: hidden-value-123\nX-Other: another-hidden-456",
        "check-auth": "false", "strict": "true",
    }  # fmt: skip
    run = run_action(inputs, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert _command(run) == (
        f"gate check {server.url} --subprotocol chat.v1 --no-check-auth "
        "--header [redacted] --header [redacted] --strict"
    )
    assert "hidden-value-123" not in run.stdout + run.stderr


def test_a_bad_input_value_is_one_annotation_and_exit_2(tmp_path: Path) -> None:
    run = run_action({"command": "check", "url": "http://x", "no-send": "yes"}, tmp_path)
    assert run.code == 2
    assert "::error::smoke-gate action: input no-send: give true or false, not 'yes'" in run.stdout
    assert run.outputs == {"exit-code": "2", "verdict": "error"}  # a later `if:` can read them
    run = run_action({"command": "check", "project": "p", "url": "http://x"}, tmp_path)
    assert run.code == 2
    assert "input project is not an option of gate check" in run.stdout
    assert run.outputs["exit-code"] == "2"


def test_a_usage_error_of_the_gate_itself_sets_the_exit_code_output(tmp_path: Path) -> None:
    run = run_action({"command": "check", "url": "ftp://not-http"}, tmp_path)
    assert run.code == 2, run.stdout + run.stderr
    assert run.outputs["exit-code"] == "2"


def _gate_step() -> dict[str, Any]:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    steps = [s for job in jobs.values() for s in job["steps"]]
    return next(s for s in steps if s.get("uses") == PUBLISHED)


def test_the_example_workflow_uses_the_published_action() -> None:
    assert f"uses: {PUBLISHED}" in WORKFLOW.read_text()
    assert _gate_step()["with"]["command"] == "verify"


def test_the_example_workflow_runs_through_the_action_script(
    cloud: CloudThread, tmp_path: Path
) -> None:
    """The workflow's own inputs, its expressions filled in, against the local Cloud Run."""
    values = {"env.PROJECT_ID": "demo-project", "env.REGION": "europe-west1",
              "env.SERVICE": "svc", "env.TAG": "gh-1"}  # fmt: skip

    def fill(text: str) -> str:
        return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: values[m[1]], text)

    inputs = {name: fill(str(value)) for name, value in _gate_step()["with"].items()}
    cloud.deploy(NEW, traffic=False, tag="gh-1")
    env = {**cloud.env, "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "none.json")}
    run = run_action({**inputs, "log-settle": "0.2"}, tmp_path, env)
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["verdict"] == "pass"
    assert run.report is not None
    assert run.report["action"]["kind"] == "promote"
    after = cloud.emulator.traffic_of("svc")
    assert after[0][:2] == (NEW, 100)
    assert "gh-1" not in {tag for _r, _p, tag in after}
