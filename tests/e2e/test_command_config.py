"""Every command reads the same configuration: flags, GATE_*, Cloud Deploy's CLOUD_RUN_*, gate.toml.

And promotion can remove the per-build tag in the same etag-safe update.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import NEW, OLD, SECRET, GateRun
from tests.servers import CloudThread

ROOT = Path(__file__).parents[2]
SCOPE = {"GATE_PROJECT": "demo-project", "GATE_REGION": "europe-west1", "GATE_SERVICE": "svc"}
CLOUD_DEPLOY = {
    "CLOUD_RUN_PROJECT": "demo-project",
    "CLOUD_RUN_LOCATION": "europe-west1",
    "CLOUD_RUN_SERVICE": "svc",
    "CLOUD_DEPLOY_DELIVERY_PIPELINE": "chat-backend",
    "CLOUD_DEPLOY_RELEASE": "rel-42",
    "CLOUD_DEPLOY_TARGET": "prod",
}
PLAIN = ["--subprotocol", "chat.v1", "--log-settle", "0.2"]


def test_gate_variables_drive_snapshot_rollback_and_promote(
    cloud: CloudThread, gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    snapshot = tmp_path / "before.json"
    taken = gate("snapshot", "--out", str(snapshot), env=SCOPE)
    assert taken.exit_code == 0, taken.stderr
    assert json.loads(snapshot.read_text())["traffic"][0]["revision"] == OLD
    cloud.deploy(NEW)
    rolled = gate("rollback", "--restore", str(snapshot), env=SCOPE)
    assert rolled.exit_code == 0, rolled.stderr
    assert cloud.emulator.traffic_of("svc")[0][:2] == (OLD, 100)
    promoted = gate("promote", env=SCOPE)
    assert promoted.exit_code == 0, promoted.stderr
    assert cloud.emulator.traffic_of("svc")[0][:2] == (NEW, 100)


def test_gate_toml_drives_the_traffic_commands(
    cloud: CloudThread, gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text(
        'project = "demo-project"\nregion = "europe-west1"\nservice = "svc"\n'
        'health_path = ["/health"]  # a verify key: ignored by the traffic commands\n'
    )
    cloud.deploy(NEW)
    run = gate("rollback", "--config", str(config), "--dry-run")
    assert run.exit_code == 0, run.stderr
    assert "dry-run" in run.stdout
    assert not cloud.emulator.calls_to("UpdateService")


def test_a_flag_beats_gate_variables_which_beat_cloud_deploy_and_the_file(
    cloud: CloudThread, gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text('project = "from-file"\nregion = "europe-west1"\nservice = "svc"\n')
    env = {"CLOUD_RUN_PROJECT": "from-cloud-deploy", "GATE_PROJECT": "demo-project"}
    assert gate("promote", "--config", str(config), "--dry-run", env=env).exit_code == 0
    run = gate("promote", "--config", str(config), "--dry-run", env={"CLOUD_RUN_PROJECT": "x"})
    assert run.exit_code == 2, run.stdout + run.stderr  # project x does not exist
    assert "projects/x/" in run.stderr
    run = gate("promote", "--config", str(config), "--project", "demo-project", "--dry-run",
               env={"GATE_PROJECT": "y"})  # fmt: skip
    assert run.exit_code == 0, run.stderr


def test_a_missing_project_names_every_way_to_give_it(gate: Callable[..., GateRun]) -> None:
    run = gate("snapshot", "--region", "r", "--service", "s", "--out", "x.json")
    assert run.exit_code == 2
    assert "--project" in run.stderr


def test_cloud_deploy_variables_drive_verify_and_name_the_rollout(
    cloud: CloudThread, gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    cloud.deploy(NEW, traffic=False, tag="canary")
    report = tmp_path / "report.json"
    run = gate(
        "verify", *PLAIN, "--report-json", str(report),
        env={**CLOUD_DEPLOY, "CLOUD_RUN_REVISION": NEW},
    )  # fmt: skip
    assert run.exit_code == 0, run.stdout + run.stderr
    data = json.loads(report.read_text())
    assert data["target"]["revision"] == NEW
    assert data["target"]["tag"] == "canary"  # reached at its tag URL, not the service's
    assert data["cloud_deploy"] == {
        "delivery_pipeline": "chat-backend",
        "release": "rel-42",
        "target": "prod",
    }
    assert data["config"] is None


def test_a_cloud_deploy_canary_without_a_tag_is_refused_with_the_fix(
    cloud: CloudThread, gate: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False)
    cloud.emulator.request_traffic("svc", [(OLD, 90), (NEW, 10)])
    run = gate("verify", *PLAIN, env={**CLOUD_DEPLOY, "CLOUD_RUN_REVISION": NEW})
    assert run.exit_code == 2, run.stdout + run.stderr
    assert f"revision {NEW} receives 10% of traffic" in run.stderr
    assert "canaryRevisionTags" in run.stderr


def test_the_report_names_the_config_file_it_used(
    sandbox: object, gate: Callable[..., GateRun], tmp_path: Path
) -> None:
    server = sandbox()  # type: ignore[operator]
    config = tmp_path / "gate.toml"
    config.write_text('subprotocol = ["chat.v1"]\n')
    run = gate("check", server.url, "--config", str(config), env={"GATE_JWT_SECRET": "x" * 40})
    assert run.report is not None
    assert run.report["config"] == str(config)
    header = run.stdout.split("\nPASS")[0]  # the first line, wrapped when the path is long
    assert f"config {config}" in " ".join(header.split())


@pytest.mark.parametrize("command", ["promote", "verify"])
def test_remove_tag_drops_only_the_candidate_tag_in_one_guarded_update(
    cloud: CloudThread, gate: Callable[..., GateRun], command: str
) -> None:
    cloud.deploy("svc-00002-keep", traffic=False, tag="keep")
    cloud.deploy("svc-00003-new", traffic=False, tag="candidate")
    etag = cloud.emulator.services[cloud.emulator.service_name("svc")].etag
    args = ["--tag", "candidate", "--remove-tag"]
    if command == "verify":
        args += ["--promote", *PLAIN]
    run = gate(command, *args, env=SCOPE)
    assert run.exit_code == 0, run.stdout + run.stderr
    updates = cloud.emulator.calls_to("UpdateService")
    assert len(updates) == 1
    assert updates[0].request.service.etag == etag
    after = cloud.emulator.traffic_of("svc")
    assert after[0][:2] == ("svc-00003-new", 100)
    assert {tag for _rev, _pct, tag in after if tag} == {"keep"}


def test_remove_tag_never_clobbers_a_concurrent_change(
    cloud: CloudThread, gate: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")
    # Someone deploys while the gate reads the candidate's logs: the etag moves on.
    timer = threading.Timer(0.4, lambda: cloud.deploy("svc-00003-other", traffic=False, tag="x"))
    timer.start()
    run = gate(
        "verify", "--tag", "candidate", "--promote", "--remove-tag",
        "--subprotocol", "chat.v1", "--log-settle", "1.5", env=SCOPE,
    )  # fmt: skip
    timer.join()
    assert run.exit_code == 3, run.stdout + run.stderr
    assert "etag mismatch" in run.stderr
    tags = {tag for _rev, _pct, tag in cloud.emulator.traffic_of("svc") if tag}
    assert tags == {"candidate", "x"}  # nothing overwritten, the candidate tag still there


def test_remove_tag_in_a_dry_run_says_so_and_changes_nothing(
    cloud: CloudThread, gate: Callable[..., GateRun]
) -> None:
    cloud.deploy(NEW, traffic=False, tag="candidate")
    run = gate("promote", "--tag", "candidate", "--remove-tag", "--dry-run", env=SCOPE)
    assert run.exit_code == 0, run.stderr
    assert "tag candidate removed" in run.stdout
    assert not cloud.emulator.calls_to("UpdateService")


def test_remove_tag_needs_a_tag(gate: Callable[..., GateRun]) -> None:
    run = gate("verify", "--promote", "--remove-tag", env=SCOPE)
    assert run.exit_code == 2
    assert "--remove-tag needs --promote and --tag" in run.stderr


def test_a_secret_manager_reference_is_read_before_the_probes(
    cloud: CloudThread, gate: Callable[..., GateRun]
) -> None:
    """GATE_JWT_SECRET=sm://... as a Cloud Deploy verify container would carry it."""
    cloud.deploy(NEW, traffic=False, tag="candidate")
    cloud.emulator.add_secret("projects/demo-project/secrets/gate-jwt", "not-this-one")
    cloud.emulator.add_secret("projects/demo-project/secrets/gate-jwt", SECRET)
    env = {**SCOPE, "GATE_JWT_SECRET": "sm://demo-project/gate-jwt"}
    run = gate("verify", "--tag", "candidate", *PLAIN, env=env)
    assert run.exit_code == 0, run.stdout + run.stderr
    (access,) = cloud.emulator.calls_to("AccessSecretVersion")
    assert access.request.name == "projects/demo-project/secrets/gate-jwt/versions/latest"
    assert SECRET not in run.stdout + run.stderr + json.dumps(run.report)


@pytest.mark.parametrize(
    ("value", "code", "needle"),
    [
        ("sm://demo-project/missing", 2, "check the sm:// reference"),
        ("sm://a/b/c", 2, "a Secret Manager reference is sm://projects/P/secrets/S/versions/V"),
    ],
)
def test_a_bad_secret_manager_reference_is_named(
    cloud: CloudThread, gate: Callable[..., GateRun], value: str, code: int, needle: str
) -> None:
    run = gate("check", "http://127.0.0.1:9", env={"GATE_JWT_SECRET": value})
    assert run.exit_code == code, run.stdout + run.stderr
    assert needle in run.stderr


def test_a_denied_secret_names_the_role(cloud: CloudThread, gate: Callable[..., GateRun]) -> None:
    cloud.emulator.deny.add("AccessSecretVersion")
    run = gate("check", "http://127.0.0.1:9", env={"GATE_TOKEN": "sm://demo-project/token"})
    assert run.exit_code == 3, run.stdout + run.stderr
    assert "roles/secretmanager.secretAccessor" in run.stderr


def test_the_cloud_deploy_verify_job_gates_the_canary_at_its_tag_url(
    cloud: CloudThread, tmp_path: Path
) -> None:
    """skaffold.yaml's verify container, as Cloud Deploy runs it at a 10% canary phase."""
    spec = yaml.safe_load((ROOT / "pipelines" / "clouddeploy" / "skaffold.yaml").read_text())
    container = spec["verify"][0]["container"]
    assert container["command"] == ["gate"]
    env = {e["name"]: e["value"].replace("PROJECT_ID", "demo-project") for e in container["env"]}
    cloud.emulator.add_secret("projects/demo-project/secrets/gate-jwt-secret", SECRET)
    cloud.deploy(NEW, traffic=False, tag="canary")
    cloud.emulator.request_traffic("svc", [(OLD, 90), (NEW, 10, "canary")])
    job_env = {**CLOUD_DEPLOY, "CLOUD_RUN_REVISION": NEW, **env,
               "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "none.json"), **cloud.env}  # fmt: skip
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "gate", *container["args"], "--log-settle=0.2",
         "--report-json", str(report)],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("GATE_")}, **job_env},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["target"]["revision"] == NEW
    assert data["target"]["tag"] == "canary"
    assert data["cloud_deploy"]["release"] == "rel-42"
