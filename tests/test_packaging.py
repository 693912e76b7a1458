"""What pyproject.toml declares is what the tests run on: the lowest bounds are the pins of
constraints/lowest.txt, with which `make test` runs the suite a second time."""

from __future__ import annotations

import re
import tomllib
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
