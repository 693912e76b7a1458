"""Reading a ``gate snapshot`` file for ``--restore``: user input, validated before any call.

A snapshot records a service's traffic with ``LATEST`` resolved to the revision
it meant (see :mod:`gate.traffic.snapshot`, which writes it). The file is read
with a size limit, parsed, and checked to be of this schema, of the service
being gated, and a traffic split of whole percents adding up to 100; any
mistake is one line naming the file and what is wrong (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path

from gate.config.file import read_limited
from gate.errors import ConfigError
from gate.model import SNAPSHOT_SCHEMA, TrafficBlock


def _target(item: object) -> TrafficBlock:
    """One traffic target of the file, or ``ValueError`` saying what is wrong with it."""
    if not isinstance(item, dict):
        raise ValueError(f"a traffic target must be an object, not {item!r}")
    kind, percent = item.get("type"), item.get("percent")
    if kind != "LATEST" and kind != "REVISION":
        raise ValueError(f"unknown traffic type {kind!r}")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ValueError(f"percent {percent!r} is not a whole number from 0 to 100")
    texts = {key: item.get(key, "") for key in ("revision", "tag", "uri")}
    if not all(isinstance(value, str) for value in texts.values()):
        raise ValueError("revision, tag and uri must be strings")
    return {
        "type": kind,
        "revision": str(texts["revision"]),
        "percent": percent,
        "tag": str(texts["tag"]),
        "uri": str(texts["uri"]),
    }


def load_snapshot(
    path: Path, service_name: str, option: str = "--restore"
) -> tuple[TrafficBlock, ...]:
    """The traffic recorded by ``gate snapshot`` for ``service_name`` (its full resource name)."""
    raw = read_limited(path, option)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ConfigError(
            f"{option} {path}: not JSON ({exc}): use a file written by `gate snapshot`"
        ) from None
    if not isinstance(data, dict) or data.get("schema") != SNAPSHOT_SCHEMA:
        raise ConfigError(
            f"{option} {path}: not a {SNAPSHOT_SCHEMA} file: write one with `gate snapshot`"
        )
    recorded = data.get("service")
    if recorded != service_name:
        what = f"is of {recorded}" if isinstance(recorded, str) else "names no service"
        raise ConfigError(f"{option} {path}: the snapshot {what}, not {service_name}")
    traffic = data.get("traffic")
    try:
        if not isinstance(traffic, list):
            raise ValueError("traffic must be a list of targets")
        split = tuple(_target(item) for item in traffic)
    except ValueError as exc:
        raise ConfigError(f"{option} {path}: malformed traffic ({exc})") from None
    if sum(t["percent"] for t in split) != 100:
        raise ConfigError(f"{option} {path}: the traffic percents do not add up to 100")
    return split
