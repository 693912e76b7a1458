"""What pyproject.toml declares is what the tests run on: the lowest bounds are the pins of
constraints/lowest.txt, with which `make test` runs the suite a second time."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from importlib.metadata import distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).parent.parent


def test_lowest_constraints_pin_every_lower_bound() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        lower = [s.version for s in requirement.specifier if s.operator == ">="]
        assert len(lower) == 1, f"{line}: declare exactly one lower bound"
        declared[requirement.name.lower()] = Version(lower[0])
    pinned = {}
    for line in (ROOT / "constraints" / "lowest.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = re.split(r"==", line.strip())
            pinned[name.lower()] = Version(version)
    assert pinned == declared


def test_the_package_is_imported_from_the_installation_not_the_checkout() -> None:
    """pytest runs with --import-mode=importlib and `python -P`, so the checkout is not on
    sys.path: `gate` comes from what pip installed (an editable install maps to the
    checkout through its own finder; a plain one, as in .venv-lowest, to site-packages)."""
    import gate

    assert str(ROOT) not in [str(Path(p).resolve()) for p in sys.path if p]
    assert "" not in sys.path
    origin = Path(gate.__file__).resolve()
    direct = json.loads(distribution("smoke-gate").read_text("direct_url.json") or "{}")
    checkout = ROOT / "gate"
    if direct.get("dir_info", {}).get("editable", False):
        assert origin.is_relative_to(checkout)
    else:
        assert not origin.is_relative_to(checkout), f"gate was imported from the checkout: {origin}"
