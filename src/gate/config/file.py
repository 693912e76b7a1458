"""``gate.toml`` and ``GATE_*`` variables: every option of ``check`` and ``verify``.

Precedence is click's own: a flag on the command line, then the option's
environment variable (``GATE_`` + the option name in upper case with
underscores, e.g. ``GATE_HEALTH_PATH``), then the config file, then the
default. The file is ``--config PATH``, or ``gate.toml`` in the working
directory when it exists. Keys are option names without the dashes
(``health_path`` or ``health-path``); a key that is no option of ``check`` or
``verify`` is an error that names it. Options of the other command are
allowed in the file (one file serves both) and ignored where they do not apply.

List options take a TOML array in the file and, in the environment, a
whitespace-separated value, except ``header``, ``jwt_claim`` and
``ignore_log`` whose values may contain spaces: one per line.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path

from gate.errors import ConfigError

DEFAULT_FILE = "gate.toml"
ENV_PREFIX = "GATE_"


def env_name(option: str) -> str:
    """The environment variable of an option: ``health_path`` -> ``GATE_HEALTH_PATH``."""
    return ENV_PREFIX + option.upper()


def find_config(explicit: str | None, cwd: Path | None = None) -> Path | None:
    """The config file to read: ``--config``, else ``./gate.toml`` if present."""
    if explicit is not None:
        return Path(explicit)
    candidate = (cwd or Path.cwd()) / DEFAULT_FILE
    return candidate if candidate.is_file() else None


def read_config(
    path: Path, known: Iterable[str], sections: Iterable[str] = ()
) -> dict[str, object]:
    """Read ``path`` into ``{option_name: value}``; unknown keys are errors.

    ``sections`` names the tables handled elsewhere (e.g. ``scenario``,
    ``targets``); they are returned as they are.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}): fix the file") from None
    allowed = set(known)
    tables = set(sections)
    values: dict[str, object] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name in tables:
            values[name] = value
            continue
        if name not in allowed:
            raise ConfigError(
                f"{path}: unknown key {key!r}: keys are the options of `gate check` and "
                "`gate verify` without dashes (see README, Configuration)"
            )
        values[name] = value
    return values
