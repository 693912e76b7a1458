"""Run shellcheck on the shell of GitHub actions and workflows, and of Cloud Build files.

Used by `make lint`. GitHub substitutes ``${{ }}`` expressions before the shell
runs; the gate's own action passes inputs through ``env:`` so its script has
none, and expressions elsewhere are replaced by a placeholder word here. In a
Cloud Build step whose entrypoint is bash (``args: [-c, SCRIPT]``), Cloud
Build substitutes ``${_NAME}`` and ``${BUILTIN}`` first and turns ``$$`` into
``$``: the same is done here before shellcheck reads the script.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

EXPRESSION = re.compile(r"\$\{\{[^}]*\}\}")
SUBSTITUTION = re.compile(r"\$\{[A-Z_][A-Z0-9_]*(?::\d+:\d+)?\}")


def run_blocks(document: dict[str, object]) -> list[tuple[str, str]]:
    """(name, script) of every run step: composite action steps and workflow job steps."""
    steps: list[dict[str, object]] = list(document.get("steps", []))  # Cloud Build
    runs = document.get("runs")
    if isinstance(runs, dict):
        steps += runs.get("steps", [])
    jobs = document.get("jobs")
    if isinstance(jobs, dict):
        for job in jobs.values():
            steps += job.get("steps", [])
    blocks = []
    for index, step in enumerate(steps):
        if "run" in step and step.get("shell", "bash") == "bash":
            blocks.append((str(step.get("name", step.get("id", index))), str(step["run"])))
        args = step.get("args") or []
        if step.get("entrypoint") == "bash" and len(args) == 2 and args[0] == "-c":
            script = SUBSTITUTION.sub("SUBSTITUTED", str(args[1])).replace("$$", "$")
            blocks.append((str(step.get("id", index)), script))
    return blocks


def main(paths: list[str]) -> int:
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    failed = 0
    for path in paths:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        for name, script in run_blocks(document):
            with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as handle:
                handle.write("#!/usr/bin/env bash\n" + EXPRESSION.sub("EXPR", script))
            done = subprocess.run([shellcheck, "--shell=bash", handle.name], check=False)
            Path(handle.name).unlink()
            if done.returncode != 0:
                print(f"shellcheck failed: {path}: step {name!r}", file=sys.stderr)
                failed += 1
            else:
                print(f"shellcheck ok: {path}: step {name!r}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
