"""The end-to-end tests: the real `gate` command, in-process or as a process, against the
sandbox, the local Cloud Run and test-only servers of other stacks. All are marked ``slow``:
`make test-fast` leaves them out."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.slow)
