"""The one event loop of a run.

``gate check`` and ``gate verify`` (many targets included) run in one asyncio
event loop, started here. Blocking calls go through :func:`gate.threads.blocking`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion in a new event loop."""
    with asyncio.Runner() as runner:
        return runner.run(main)
