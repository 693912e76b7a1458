"""The package's layers are real: arrows point down, pure layers import no network library,
Google libraries stay in ``gate.cloud``, and a bug of the gate exits 3 with a traceback."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SECRET

SRC = Path(__file__).parent.parent / "gate"
NETWORK = ("requests", "websockets", "jwt", "grpc", "google", "urllib3", "aiohttp")

# Bottom to top. A module may import the gate's modules of a lower rank, or its own package;
# the base modules (rank 0) may import each other.
RANKS = {
    "gate": 0,
    "gate.errors": 0,
    "gate.model": 0,
    "gate.redact": 0,
    "gate.timing": 0,
    "gate.matching": 0,
    "gate.threads": 0,
    "gate.text": 0,
    "gate.stacks": 0,
    "gate.diagnoses": 0,
    "gate.config": 1,
    "gate.probes": 2,
    "gate.cloud": 2,
    "gate.checks": 3,
    "gate.traffic": 3,
    "gate.report": 3,
    "gate.run": 4,
    "gate.sandbox": 5,
    "gate.cli": 6,
    "gate.__main__": 7,
}
# The pure layers read only the data records of the layers below them.
DATA_ONLY = {
    "gate.checks": {"gate.probes.transcript", "gate.cloud.model"},
    "gate.traffic": {"gate.cloud.model"},
}
GOOGLE_ALLOWED = ("gate.cloud", "gate.sandbox.emulator", "gate.sandbox.metricfilter")


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _package(module: str) -> str:
    return next(p for p in sorted(RANKS, key=len, reverse=True) if module.startswith(p))


def _imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file, lazily inside functions included."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


MODULES = _modules()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_arrows_point_down(module: str) -> None:
    own = _package(module)
    for imported in _imports(MODULES[module]):
        if not imported.startswith("gate"):
            continue
        target = _package(imported)
        if target == own or RANKS[target] == RANKS[own] == 0:
            continue
        assert RANKS[target] < RANKS[own], f"{module} imports {imported}, a layer above it"
        allowed = DATA_ONLY.get(own)
        if allowed is not None and RANKS[target] > 0:
            assert imported in allowed, f"{module} imports {imported}: only {allowed} may be"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_google_libraries_only_in_the_cloud_layer(module: str) -> None:
    if module.startswith(GOOGLE_ALLOWED):
        return
    google = {i for i in _imports(MODULES[module]) if i.split(".")[0] in ("google", "grpc")}
    assert google == set(), f"{module} imports {google}"


def test_pure_layers_import_no_network_library() -> None:
    pure = sorted(m for m in MODULES if m.startswith(("gate.checks", "gate.report", "gate.model")))
    code = (
        "import importlib, sys\n"
        "before = set(sys.modules)\n"
        f"for name in {pure!r}:\n"
        "    importlib.import_module(name)\n"
        "added = set(sys.modules) - before\n"
        f"print(sorted(m for m in added if m.split('.')[0] in {NETWORK!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert len(pure) > 10
    assert done.stdout.strip() == "[]", done.stdout


def test_a_bug_in_the_gate_exits_3_with_its_traceback(sandbox: Any) -> None:
    """The top-level net: a crash is the gate's bug, never "the release failed"."""
    url = sandbox().url
    code = (
        "import sys\n"
        "import gate.report.text\n"
        "def broken(*args, **kwargs):\n"
        "    raise ZeroDivisionError('a bug in a renderer')\n"
        "gate.report.text.render_any = broken\n"
        "from gate.cli import main\n"
        f"sys.argv = ['gate', 'check', {url!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"GATE_JWT_SECRET": SECRET, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" in done.stderr
    assert "ZeroDivisionError: a bug in a renderer" in done.stderr
    assert "this is a bug in smoke-gate" in done.stderr
    assert "github.com/smoke-gate/smoke-gate/issues" in done.stderr


def test_check_and_help_never_import_google() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from gate.cli import cli\n"
        "for argv in (['--help'], ['check', 'http://127.0.0.1:9', "
        "'--retry-budget', '0', '--deadline', '2']):\n"
        "    try:\n"
        "        cli(argv, prog_name='gate')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "added = set(sys.modules) - before\n"
        "print(sorted(m for m in added if m.startswith('google') or m == 'grpc'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["verify", "--help"]])
def test_help_imports_neither_asyncio_nor_ssl(argv: list[str]) -> None:
    """Start-up: the event loop and the TLS stack are loaded when a run needs them, not
    for help (bench/startup.py times it against a bare `import click`)."""
    code = (
        "import sys\n"
        "from gate.cli import cli\n"
        "try:\n"
        f"    cli({argv!r}, prog_name='gate')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('asyncio', 'ssl', 'google', 'grpc') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def _calls_in(path: Path, names: tuple[str, ...]) -> list[str]:
    """The calls of ``names`` (``asyncio.run``, ``Deadline``...) in the file, as written."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            written = ast.unparse(node.func)
            if written in names or written.split(".")[-1] in names:
                found.append(f"{path.relative_to(SRC.parent)}:{node.lineno} {written}")
    return found


def test_one_event_loop_and_one_clock_per_run() -> None:
    """Only the supervisor starts an event loop or a deadline (the sandbox's own server
    loop starts its own): one run, one deadline."""
    allowed = {"gate.run.supervisor", "gate.sandbox.serve"}
    found = [
        call
        for module, path in MODULES.items()
        if module not in allowed
        for call in _calls_in(path, ("asyncio.run", "new_event_loop", "Deadline"))
    ]
    assert found == []
    supervisor = _calls_in(MODULES["gate.run.supervisor"], ("asyncio.run", "Deadline"))
    assert len(supervisor) == 3, supervisor  # the search sees them where they are


def test_the_environment_is_read_at_the_edge_only() -> None:
    """Below the CLI and the configuration, nothing reads (or writes) ``os.environ``."""
    below = ("gate.run", "gate.probes", "gate.checks", "gate.cloud", "gate.report", "gate.traffic")
    readers = [
        module
        for module, path in MODULES.items()
        if module.startswith(below)
        and re.search(r"\bos\.(environ|getenv|putenv)", path.read_text())
    ]
    assert readers == []
    writers = [
        m
        for m, p in MODULES.items()
        if re.search(r"os\.environ\.(update|setdefault)|os\.environ\[.+\]\s*=", p.read_text())
    ]
    assert writers == ["gate.cli.sandbox"]  # gRPC's own verbosity variable, for the sandbox only


def test_the_sandbox_is_a_client_of_the_product_and_only_its_commands_import_it() -> None:
    """The sandbox may use the product (the demo runs the real verify); the product uses
    the sandbox only in the CLI commands that start it (``gate demo``, ``gate sandbox``)."""
    importers = sorted(
        module
        for module, path in MODULES.items()
        if not module.startswith("gate.sandbox")
        and any(i.startswith("gate.sandbox") for i in _imports(path))
    )
    assert importers == ["gate.cli.sandbox"]
    demo = _imports(MODULES["gate.sandbox.demo"])
    assert any(i.startswith("gate.run") for i in demo)  # the real run, not a copy of it
