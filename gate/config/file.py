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


FILE_LIMIT = 1024 * 1024
"""The most the gate reads of any file it is given (a config, a key, a snapshot, a CA bundle)."""


def read_limited(path: Path, option: str, limit: int = FILE_LIMIT) -> bytes:
    """The bytes of a file the user named, refused when unreadable or larger than ``limit``.

    Read with a bound, so that ``/dev/zero`` or a huge file given by mistake is an
    error naming it, not a process that reads forever.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"{option} {path}: cannot read it ({reason}): check the path") from None
    if len(data) > limit:
        raise ConfigError(
            f"{option} {path}: larger than {limit // 1024} KiB: give the intended file"
        )
    return data


def read_config(
    path: Path, known: Iterable[str], sections: Iterable[str] = ()
) -> dict[str, object]:
    """Read ``path`` into ``{option_name: value}``; unknown keys are errors.

    ``sections`` names the tables handled elsewhere (e.g. ``scenario``,
    ``targets``); they are returned as they are.
    """
    data = read_limited(path, "--config")
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"--config {path}: not UTF-8 text (byte {exc.start}): save it as UTF-8"
        ) from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ConfigError(f"{path}: not valid TOML ({reason}): fix the file") from None
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
