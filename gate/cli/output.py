"""Everything a command prints, writes or exits with once its work is done.

Reports are rendered by :mod:`gate.report`; this module puts them where the
user and the CI around them expect them (stdout, ``--report-json``,
``--junit``, GitHub's files) and exits with the verdict's code. It is the
output boundary: every result is redacted (:mod:`gate.report.redaction`) before
any renderer sees it, and every text written passes the redactor once more.
It is the only module that exits.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click

from gate import __version__
from gate.cli.progress import progress_done
from gate.errors import ConfigError, ExitCode, GateError
from gate.model import Result
from gate.redact import Redactor

ISSUES_URL = "https://github.com/smoke-gate/smoke-gate/issues"


def fail(error: GateError, redactor: Redactor | None = None) -> NoReturn:
    """One line on stderr, and the error's exit code."""
    progress_done()
    message = redactor.text(error.message) if redactor is not None else error.message
    click.echo(f"gate: error: {message}", err=True)
    sys.exit(error.exit_code)


_WATCHED: list[Redactor] = []


def watched(redactor: Redactor) -> Redactor:
    """``redactor``, also known to the crash net: a bug's traceback is redacted like any output.

    A traceback quotes exception texts and can quote what a server sent (a
    ``Location`` holding a token, a body): it leaves through the same redaction
    as every report.
    """
    _WATCHED.append(redactor)
    return redactor


def crash() -> NoReturn:
    """A bug of the gate itself: its redacted traceback, where to report it, and exit code 3."""
    text = traceback.format_exc()
    for redactor in _WATCHED or [Redactor()]:  # with none yet, JWT shapes are still masked
        text = redactor.text(text)
    click.echo(text, err=True, nl=False)
    click.echo(
        f"gate: internal error: this is a bug in smoke-gate {__version__}, not a verdict on "
        f"your release; please report it with the traceback above at {ISSUES_URL}",
        err=True,
    )
    sys.exit(ExitCode.GATE)


def stopped(signal_name: str, what: str) -> NoReturn:
    """A signal stopped a command with no report to write: one line, and 130 or 143."""
    progress_done()
    click.echo(f"gate: interrupted by {signal_name}: {what}", err=True)
    sys.exit(ExitCode.INTERRUPTED if signal_name == "SIGINT" else ExitCode.TERMINATED)


_PLAIN_TYPES = {
    "is not a valid float range": "is not a number",
    "is not a valid float": "is not a number",
    "is not a valid integer range": "is not a whole number",
    "is not a valid integer": "is not a whole number",
}
"""click's names of its types, as a user would say them."""


def _source(error: click.BadParameter) -> str | None:
    """Where a refused value came from when it was not the command line: the variable, or the
    config file and its key (click records each parameter's source before converting it)."""
    ctx, param = error.ctx, error.param
    if ctx is None or param is None or param.name is None:
        return None
    source = ctx.get_parameter_source(param.name)
    if source is click.core.ParameterSource.ENVIRONMENT:
        names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or ())
        return next((name for name in names if os.environ.get(name)), None)
    if source is click.core.ParameterSource.DEFAULT_MAP:
        path = ctx.meta.get("gate.config_path")
        return f"{path}: {param.name}" if path else None
    return None


def usage(error: click.UsageError) -> NoReturn:
    """A command line click refused: one line naming the value (and the variable or config
    key it came from, when not the command line), and where the options are."""
    command = error.ctx.command_path if error.ctx is not None else "gate"
    message = error.format_message().rstrip(".")
    source = _source(error) if isinstance(error, click.BadParameter) else None
    if source is not None:
        message = f"{source}: {error.message.rstrip('.')}"
    for name, plain in _PLAIN_TYPES.items():
        message = message.replace(name, plain)
    message = " ".join(message.split())  # click's suggestion comes on a line of its own
    if message.endswith("?"):  # "No such command 'chek'. Did you mean 'check'?"
        click.echo(f"gate: error: {message} See `{command} --help`.", err=True)
        sys.exit(ExitCode.USAGE)
    where = "fix it there, or see" if source is not None else "see"
    click.echo(f"gate: error: {message}: {where} `{command} --help`", err=True)
    sys.exit(ExitCode.USAGE)


def report_path(option: str, path: str | None) -> Path | None:
    """A report file's path, refused before any work when its folder does not exist."""
    if path is None:
        return None
    target = Path(path)
    if not target.parent.is_dir():
        raise ConfigError(f"{option} {path}: folder {target.parent} does not exist: create it")
    return target


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def width() -> int:
    """The report's width: the terminal's, or 100 columns in a CI log or a file."""
    from gate.report.text import WIDTH

    return shutil.get_terminal_size().columns if sys.stdout.isatty() else WIDTH


def echo_wrapped(head: str, text: str) -> None:
    """One message of the command's own (not a report line), wrapped like the report."""
    from gate.report.text import wrap

    click.echo("\n".join(wrap(head, text, width(), len(head))))


def write(path: Path, text: str, option: str, redactor: Redactor) -> None:
    """Write an output file, redacted; a failure is the gate's own error (exit 3)."""
    try:
        path.write_text(redactor.text(text), encoding="utf-8")
    except OSError as exc:
        fail(GateError(f"{option} {path}: cannot write it ({exc.strerror})"))


@dataclass(frozen=True)
class Reports:
    """Where the report files go: ``--report-json``, ``--junit``, ``--report-html``."""

    json: Path | None = None
    junit: Path | None = None
    html: Path | None = None


def finish(result: Result, reports: Reports, redactor: Redactor) -> NoReturn:
    """Render for the terminal and for the CI around it, then exit with the verdict.

    The run has notified its webhooks already (:mod:`gate.run.execute`), so a
    notification that failed is a warning in every report.
    """
    from gate.report import ci
    from gate.report.json_report import render_json
    from gate.report.junit import render_junit
    from gate.report.redaction import redacted
    from gate.report.text import render_any

    progress_done()
    result = redacted(result, redactor)
    click.echo(redactor.text(render_any(result, colour=_colour(), width=width())), nl=False)
    path = reports.json or ci.default_report_path(os.environ)
    if path is not None:
        write(path, render_json(result), "--report-json", redactor)
    if reports.junit is not None:
        write(reports.junit, render_junit(result), "--junit", redactor)
    if reports.html is not None:
        from gate.report.html import render_html

        write(reports.html, render_html(result), "--report-html", redactor)
    if ci.on_github(os.environ):
        lines, problems = ci.publish_github(result, path, os.environ, redactor.text)
        for problem in problems:
            click.echo(f"gate: warning: {problem}: the verdict stands", err=True)
        for line in lines:
            click.echo(redactor.text(line))
    if result.error is not None:
        click.echo(f"gate: error: {result.error}", err=True)
    sys.exit(result.exit_code)


def leave(done: SystemExit) -> NoReturn:
    """End the process with ``done``'s code, now: streams flushed, no finalization."""
    code = done.code
    if code is not None and not isinstance(code, int):
        click.echo(str(code), err=True)
        code = ExitCode.FAIL
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code or ExitCode.PASS)
