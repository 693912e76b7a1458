"""Every `gate ...` command line in the pipelines, the action, the README and the docs parses with the
real click command, so documentation and pipelines cannot drift from the CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from gate.cli import cli

ROOT = Path(__file__).parent.parent
CLOUD_BUILD = [
    ROOT / "cloudbuild.yaml",
    *sorted((ROOT / "pipelines" / "cloudbuild").glob("*.yaml")),
]
WORKFLOW = ROOT / "pipelines" / "github-actions" / "deploy.yml"
BUILTINS = {"PROJECT_ID": "demo-project", "BUILD_ID": "0123456789abcdef", "SHORT_SHA": "abc1234"}
SHELL_VALUES = {"PROJECT_ID": "demo-project", "REGION": "europe-west1", "SERVICE": "svc",
                "TAG": "gh-1", "RUNNER_TEMP": "/tmp"}  # fmt: skip


def _substitute(text: str, values: dict[str, str]) -> str:
    """Resolve Cloud Build substitutions, ${VAR:0:8} slices included, until none is left."""
    pattern = re.compile(r"\$\{(\w+)(?::(\d+):(\d+))?\}|\$(\w+)")

    def one(match: re.Match[str]) -> str:
        name = match[1] or match[4]
        value = values.get(name, match[0])
        if match[2] is not None:
            value = value[int(match[2]) : int(match[2]) + int(match[3])]
        return value

    for _ in range(5):
        text = pattern.sub(one, text)
    return text


def _parse(argv: list[str]) -> None:
    assert argv[0] == "gate", argv
    name = argv[1]
    command = cli.get_command(click.Context(cli), name)
    assert command is not None, f"unknown command {name!r} in {argv}"
    command.make_context(name, argv[2:])


def _build_env(document: dict[str, object]) -> dict[str, str]:
    """The ``options.env`` of a Cloud Build file, substituted: every step's environment."""
    values = {**BUILTINS, **document.get("substitutions", {})}  # type: ignore[dict-item]
    options = document.get("options") or {}
    pairs = (str(e).split("=", 1) for e in options.get("env", []))  # type: ignore[union-attr]
    return {name: _substitute(value, values) for name, value in pairs}


BUILD_ENV = {
    name: value
    for path in CLOUD_BUILD
    for name, value in _build_env(yaml.safe_load(path.read_text())).items()
}


def cloud_build_commands() -> list[tuple[str, list[str]]]:
    found = []
    for path in CLOUD_BUILD:
        document = yaml.safe_load(path.read_text())
        values = {**BUILTINS, **document.get("substitutions", {})}
        for step in document["steps"]:
            if step.get("entrypoint") == "gate":
                argv = ["gate", *(_substitute(str(a), values) for a in step["args"])]
                found.append((f"{path.name}:{step['id']}", argv))
            elif step.get("entrypoint") == "bash":
                script = str(step["args"][1]).replace("/workspace/.gate/bin/gate", "gate")
                found += shell_commands(_substitute(script, values), f"{path.name}:{step['id']}")
    return found


def shell_commands(text: str, source: str) -> list[tuple[str, list[str]]]:
    found = []
    joined = re.sub(r"\\\n\s*", " ", text)
    for number, line in enumerate(joined.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("gate ") and "[--" not in stripped and "..." not in stripped:
            argv = shlex.split(_substitute(stripped, SHELL_VALUES))
            found.append((f"{source}:{number}", argv))
    return found


def markdown_commands(path: Path, source: str) -> list[tuple[str, list[str]]]:
    """The `gate ...` lines of a Markdown file's shell blocks."""
    text = path.read_text()
    fenced = re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)
    blocks = [body for language, body in fenced if language in ("", "sh", "bash", "shell")]
    found: list[tuple[str, list[str]]] = []
    for index, block in enumerate(blocks):
        block = re.sub(r"(?m)^\.venv/bin/", "", block)
        found += shell_commands(block, f"{source} block {index}")
    return found


def readme_commands() -> list[tuple[str, list[str]]]:
    """The README's commands, and those of every page of the documentation site."""
    found = markdown_commands(ROOT / "README.md", "README")
    for page in sorted((ROOT / "docs").rglob("*.md")):
        found += markdown_commands(page, f"docs/{page.relative_to(ROOT / 'docs')}")
    return found


def workflow_commands() -> list[tuple[str, list[str]]]:
    document = yaml.safe_load(WORKFLOW.read_text())
    found = []
    for job in document["jobs"].values():
        for step in job["steps"]:
            if "run" in step:
                found += shell_commands(step["run"], f"deploy.yml:{step.get('name')}")
    return found


ALL = cloud_build_commands() + readme_commands() + workflow_commands()


def test_there_are_commands_to_check() -> None:
    sources = {where.split(":")[0].split(" ")[0] for where, _argv in ALL}
    assert {"cloudbuild.yaml", "deploy-with-traffic.yaml", "manual-check.yaml", "README"} <= sources
    assert {"docs/getting-started.md", "docs/verify.md", "docs/canary.md"} <= sources
    assert len(ALL) >= 9


@pytest.mark.parametrize(("where", "argv"), ALL, ids=[where for where, _ in ALL])
def test_command_line_parses(where: str, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    if where.split(":")[0].endswith(".yaml"):  # Cloud Build: the file's options.env is set
        for name, value in BUILD_ENV.items():
            monkeypatch.setenv(name, value)
    _parse(argv)


def test_a_drifted_command_would_fail() -> None:
    with pytest.raises(click.UsageError):
        _parse(["gate", "verify", "--project", "p", "--region", "r", "--service", "s", "--promot"])


def test_docs_configuration_table_lists_every_option() -> None:
    from gate.cli.options import known_options
    from gate.cli.table import OPTIONS

    text = (ROOT / "docs" / "configuration.md").read_text()
    missing = [
        name for name in known_options(OPTIONS) if f"| `{name}` | `GATE_{name.upper()}`" not in text
    ]
    assert missing == []


def test_docs_configuration_table_is_the_options_table() -> None:
    """The configuration page's table is generated (tools/docs_reference.py); a hand edit
    fails here."""
    from gate.cli.options import markdown_table
    from gate.cli.table import OPTIONS

    assert markdown_table(OPTIONS) in (ROOT / "docs" / "configuration.md").read_text()


@pytest.mark.parametrize("name", ["check", "verify", "snapshot", "rollback", "promote"])
def test_every_command_option_comes_from_the_table(name: str) -> None:
    from gate.cli.table import OPTIONS

    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    params = {p.name for p in command.params} - {"config", "help"}
    assert params == {o.name for o in OPTIONS if name in o.commands}


# The current major of each action the pipelines use, the first that runs on Node 24 or newer
# (GitHub removed Node 20 from its hosted runners in September 2026): the actions' release notes.
CURRENT_MAJORS = {
    "actions/checkout": "v7",
    "actions/setup-python": "v7",
    "actions/upload-artifact": "v7",
    "google-github-actions/auth": "v3",
    "google-github-actions/setup-gcloud": "v3",
    "google-github-actions/deploy-cloudrun": "v3",
    "docker/setup-buildx-action": "v4",
    "docker/login-action": "v4",
    "docker/build-push-action": "v7",
}
PIPELINE_FILES = [
    ROOT / "action.yml",
    WORKFLOW,
    *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "README.md",
]
_USES = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)@([\w.-]+)")


def test_every_action_is_at_its_current_major() -> None:
    seen = {}
    for path in PIPELINE_FILES:
        for name, ref in _USES.findall(path.read_text()):
            if name in CURRENT_MAJORS:
                seen[f"{path.name}: {name}"] = ref
                assert ref == CURRENT_MAJORS[name], f"{path.name}: {name}@{ref}"
    assert {key.split(": ")[1] for key in seen} >= {
        "actions/checkout",
        "google-github-actions/auth",
    }


def test_every_install_line_names_the_current_release() -> None:
    """smoke-gate is not on PyPI yet: each install line installs the release by its tag."""
    from gate import __version__

    tag = f"v{__version__}"
    texts = {p.name: p.read_text() for p in [ROOT / "README.md", *CLOUD_BUILD, WORKFLOW]}
    assert f"pipx install git+https://github.com/smoke-gate/smoke-gate@{tag}" in texts["README.md"]
    for path in CLOUD_BUILD:
        package = yaml.safe_load(path.read_text())["substitutions"]["_GATE_PACKAGE"]
        assert package == f"https://github.com/smoke-gate/smoke-gate/archive/refs/tags/{tag}.tar.gz"
    assert f"uses: smoke-gate/smoke-gate@{tag}" in texts[WORKFLOW.name]
    published = re.findall(r"smoke-gate/smoke-gate@([\w.]+)", "\n".join(texts.values()))
    assert set(published) == {tag}
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for line in re.findall(r"pipx install [^`\n]*", page.read_text()):
            assert "git+https://github.com/smoke-gate/smoke-gate@" in line or (
                f"smoke-gate=={__version__}" in line and "once it is" in page.read_text()
            ), f"{page.name}: {line}"
