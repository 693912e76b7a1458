"""``gate demo`` and ``gate sandbox``: the reference service and the local Cloud Run.

Their few options configure the sandbox, not the gate, so they are declared
here and read no ``GATE_*`` variable or config file.
"""

from __future__ import annotations

import os

import click

from gate.cli.output import Reports, echo_wrapped, fail, finish, report_path, watched
from gate.errors import GateError
from gate.redact import Redactor
from gate.sandbox.faults import DEMO_FAULTS, FAULTS


def _fault_list() -> str:
    """Every fault the demo can deploy, a line each, for ``gate demo --help``."""
    every = {**FAULTS, **DEMO_FAULTS}
    return "\b\nFaults:\n" + "\n".join(f"  {name:<22} {text}" for name, text in every.items())


@click.command(
    epilog=_fault_list(),
    short_help="Run `gate verify` against a local Cloud Run: a bad release rolled back.",
)
@click.option(
    "--fault",
    type=click.Choice(sorted([*FAULTS, *DEMO_FAULTS])),
    help="The failure of the new revision (each is described below).  [default: "
    "close-on-message; flaky-5xx with --canary]",
)
@click.option(
    "--canary",
    is_flag=True,
    help="Roll the new revision out in steps (20%, 50%) under synthetic user traffic, judged "
    "by probes, logs and request metrics.",
)
@click.option(
    "--report-json",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="Write the JSON report here too.",
)
@click.option(
    "--report-html",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="Write the HTML report (charts) here too.",
)
def demo(fault: str | None, canary: bool, report_json: str | None, report_html: str | None) -> None:
    """Run `gate verify` against a local Cloud Run: a failing release rolled back.

    With --fault none: a release deployed with a tag, passed and promoted. With
    --canary: a tagged release rolled out in steps under synthetic users, its
    error rate caught by the request metrics (or, with --fault none, promoted).
    Exits with the gate's own exit code (1 for a failed release).
    """
    # The demo stops its own gRPC server at the end: gRPC's INFO lines about it are noise.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    from gate.cli.progress import progress
    from gate.sandbox.demo import run_demo, shortcuts

    redactor = watched(Redactor())
    try:
        reports = Reports(
            report_path("--report-json", report_json),
            None,
            report_path("--report-html", report_html),
        )
        chosen = fault or ("flaky-5xx" if canary else "close-on-message")
        echo_wrapped("demo: ", f"{shortcuts(canary)}.")
        story, result = run_demo(chosen, redactor, canary, progress)
    except GateError as error:
        fail(error, redactor)
    echo_wrapped("demo: ", story)
    click.echo()
    finish(result, reports, redactor)


@click.group(short_help="The reference service that reproduces each failure on demand.")
def sandbox() -> None:
    """The reference service that reproduces each failure on demand."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--fault", type=click.Choice(sorted(FAULTS)), default="none", show_default=True)
@click.option(
    "--cold-start",
    "cold_start_s",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Seconds of 503 answers for --fault cold-start.",
)
@click.option(
    "--jwt-secret-env",
    default="GATE_JWT_SECRET",
    show_default=True,
    metavar="VAR",
    help="Variable holding the HS256 secret; unset means no authentication.",
)
@click.option(
    "--delay-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Delay every HTTP answer, upgrade and reply (a stand-in for network distance).",
)
def serve(
    host: str, port: int, fault: str, cold_start_s: float, jwt_secret_env: str, delay_ms: float
) -> None:
    """Serve the sandbox until interrupted."""
    from gate.sandbox import serve as server
    from gate.sandbox.service import SandboxConfig

    secret = os.environ.get(jwt_secret_env) or None
    config = SandboxConfig(
        fault=fault, jwt_secret=secret, cold_start_s=cold_start_s, delay_s=delay_ms / 1000.0
    )
    auth = f"auth from ${jwt_secret_env}" if secret else f"no auth (${jwt_secret_env} unset)"

    def ready(url: str) -> None:
        click.echo(f"sandbox on {url} · fault {fault}: {FAULTS[fault]} · {auth}")

    try:
        server.serve(config, host, port, ready)
    except GateError as error:
        fail(error)


@sandbox.command("faults")
def faults() -> None:
    """List the faults the sandbox can reproduce."""
    for name, description in FAULTS.items():
        click.echo(f"{name:<24} {description}")
