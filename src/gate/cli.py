"""The command line: parse, call, render, exit. The only module that prints or exits.

Exit codes (a contract, see README): 0 pass; 1 the service failed a check;
2 usage or configuration error; 3 the gate could not complete its own work.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from gate import __version__
from gate.config import DEFAULT_SEND, build_settings
from gate.errors import ConfigError, GateError
from gate.sandbox.faults import FAULTS

F = TypeVar("F", bound=Callable[..., Any])

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_GATE = 0, 1, 2, 3


class _Lines(click.types.StringParamType):
    """Text whose environment variable holds one value per line (values may contain spaces)."""

    envvar_list_splitter = "\n"


LINES = _Lines()
_SECONDS = click.FloatRange(min=0.001)


def _options(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Eager: read gate.toml into the command's defaults before other options are parsed."""
    from gate.configfile import find_config, read_config

    path = find_config(value)
    if path is None:
        return None
    try:
        values = read_config(path, KNOWN_OPTIONS, sections=CONFIG_SECTIONS)
    except GateError as error:
        _fail(error)
    own = {p.name for p in ctx.command.params if p.name}
    ctx.default_map = {**(ctx.default_map or {}), **{k: v for k, v in values.items() if k in own}}
    ctx.meta["gate.config"] = values
    return str(path)


check_options = _options(
    click.option(
        "--config",
        type=click.Path(dir_okay=False),
        metavar="PATH",
        is_eager=True,
        expose_value=False,
        callback=_load_config,
        help="Config file.  [default: ./gate.toml when present]",
    ),
    click.option(
        "--health-path",
        multiple=True,
        metavar="PATH",
        help="Health endpoint path; repeatable.  [default: /health]",
    ),
    click.option(
        "--expect-status",
        type=click.IntRange(100, 599),
        default=200,
        show_default=True,
        help="Expected status of each health path.",
    ),
    click.option("--expect-body", metavar="JSON", help="JSON subset the health body must contain."),
    click.option("--ws-path", default="/ws", show_default=True, help="WebSocket path."),
    click.option(
        "--subprotocol-template",
        default="jwt.{token_b64url}",
        show_default=True,
        help="How the token is offered as a subprotocol ({token}, {token_b64url}).",
    ),
    click.option(
        "--subprotocol",
        multiple=True,
        metavar="NAME",
        help="A plain subprotocol to offer as well; repeatable.",
    ),
    click.option(
        "--expect-subprotocol", metavar="NAME", help="The subprotocol the server must select."
    ),
    click.option(
        "--send",
        default=DEFAULT_SEND,
        show_default=True,
        metavar="TEXT",
        help="First message to send after the upgrade.",
    ),
    click.option("--no-send", is_flag=True, help="Send nothing; only listen for a message."),
    click.option(
        "--expect",
        metavar="TEXT",
        help="Expected reply: a JSON subset if it parses as an object, else a substring.",
    ),
    click.option(
        "--message-timeout",
        type=_SECONDS,
        default=10.0,
        show_default=True,
        help="Seconds to wait for the reply.",
    ),
    click.option(
        "--max-message-size",
        type=click.IntRange(min=1),
        default=1 << 20,
        show_default=True,
        help="Largest message accepted, in bytes.",
    ),
    click.option(
        "--check-auth/--no-check-auth",
        default=True,
        show_default=True,
        help="Check that the socket refuses missing, forged and expired tokens.",
    ),
    click.option(
        "--token-env",
        default="GATE_TOKEN",
        show_default=True,
        metavar="VAR",
        help="Variable holding a ready token.",
    ),
    click.option(
        "--jwt-secret-env",
        default="GATE_JWT_SECRET",
        show_default=True,
        metavar="VAR",
        help="Variable holding an HS256 secret to mint tokens with.",
    ),
    click.option(
        "--jwt-key-file",
        type=click.Path(dir_okay=False),
        metavar="PEM",
        help="RSA or EC private key to mint RS256/ES256 tokens with.",
    ),
    click.option("--jwt-algorithm", metavar="ALG", help="Override the minting algorithm."),
    click.option("--jwt-subject", metavar="SUB", help="sub claim of minted tokens."),
    click.option("--jwt-audience", metavar="AUD", help="aud claim of minted tokens."),
    click.option("--jwt-issuer", metavar="ISS", help="iss claim of minted tokens."),
    click.option(
        "--jwt-claim",
        multiple=True,
        type=LINES,
        metavar="KEY=VALUE",
        help="Extra claim (VALUE parsed as JSON when it can be); repeatable.",
    ),
    click.option(
        "--jwt-ttl",
        type=_SECONDS,
        default=300.0,
        show_default=True,
        help="Lifetime of minted tokens, in seconds.",
    ),
    click.option(
        "--connect-timeout",
        type=_SECONDS,
        default=10.0,
        show_default=True,
        help="Seconds for DNS and TCP connect, per step.",
    ),
    click.option(
        "--read-timeout",
        type=_SECONDS,
        default=10.0,
        show_default=True,
        help="Seconds for a response or the upgrade, per step.",
    ),
    click.option(
        "--deadline",
        type=_SECONDS,
        default=60.0,
        show_default=True,
        help="Seconds for the whole run.",
    ),
    click.option(
        "--retry-budget",
        type=click.FloatRange(min=0),
        default=30.0,
        show_default=True,
        help="Seconds of retries for cold-start outcomes (refused, 429, 502-504).",
    ),
    click.option(
        "--ca-bundle",
        type=click.Path(dir_okay=False),
        metavar="PEM",
        help="Extra CA certificates to trust (verification stays on).",
    ),
    click.option(
        "--header",
        multiple=True,
        type=LINES,
        metavar="'NAME: VALUE'",
        help="Extra request header; repeatable; values are redacted in output.",
    ),
    click.option(
        "--connections",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="Also open N authenticated sockets at once; each must complete (ws.concurrency).",
    ),
    click.option(
        "--samples",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="Repeat health, handshake and first exchange N times; report p50/p95/max.",
    ),
    click.option(
        "--budget",
        multiple=True,
        metavar="NAME=DURATION",
        help="Latency budget on p95: health, handshake or first_message, e.g. health=100ms.",
    ),
    click.option("--strict", is_flag=True, help="Warnings fail the run."),
    click.option(
        "--report-json",
        type=click.Path(dir_okay=False),
        metavar="PATH",
        help="Write the JSON report (schema gate.report/v1) here.",
    ),
    click.option(
        "--junit",
        type=click.Path(dir_okay=False),
        metavar="PATH",
        help="Write a JUnit XML report (one testcase per check) here.",
    ),
)


_SET_BY_USER = (
    click.core.ParameterSource.COMMANDLINE,
    click.core.ParameterSource.ENVIRONMENT,
    click.core.ParameterSource.DEFAULT_MAP,
)


def _explicit(ctx: click.Context) -> frozenset[str]:
    """Options the user set: on the command line, in the environment or in the config file."""
    return frozenset(name for name in ctx.params if ctx.get_parameter_source(name) in _SET_BY_USER)


def _targets(ctx: click.Context) -> list[Any]:
    """The validated ``[[targets]]`` of the config file, if any."""
    from gate.targets import parse_targets

    raw = ctx.meta.get("gate.config", {}).get("targets")
    return parse_targets(raw, KNOWN_OPTIONS) if raw is not None else []


def _per_target(
    ctx: click.Context, base: dict[str, Any], targets: list[Any]
) -> list[tuple[str, dict[str, Any]]]:
    """Each target's options: its table over the base, command-line flags kept."""
    from gate.targets import target_options

    params = {p.name: p for p in ctx.command.params if p.name}

    def on_command_line(name: str) -> bool:
        return ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE

    def convert(name: str, value: Any) -> Any:
        param = params.get(name)
        if param is None:
            return value
        try:
            return param.type_cast_value(ctx, value)
        except click.BadParameter as exc:
            raise ConfigError(f"gate.toml: targets: {name} = {value!r}: {exc.message}") from None

    return [(t.name, target_options(base, t, on_command_line, convert)) for t in targets]


# verify takes the URL from the service; a placeholder lets every other option be
# validated before the first API call.
_RESOLVED_LATER = "https://resolved.invalid"


def _prepare(ctx: click.Context, options: dict[str, Any]) -> tuple[Any, Any]:
    """Validated settings and the credential they name, for one target."""
    from gate.tokens import load_credential

    settings = build_settings(options, _explicit(ctx), _scenario(ctx))
    return settings, load_credential(settings.token)


def _scenario(ctx: click.Context) -> Any:
    """The ``[scenario]`` table of the config file, if any."""
    return ctx.meta.get("gate.config", {}).get("scenario")


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _fail(error: GateError) -> None:
    click.echo(f"gate: error: {error.message}", err=True)
    sys.exit(error.exit_code)


def _check_report_path(option: str, path: str | None) -> Path | None:
    if path is None:
        return None
    target = Path(path)
    if not target.parent.is_dir():
        raise ConfigError(f"{option} {path}: folder {target.parent} does not exist: create it")
    return target


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="smoke-gate")
def cli() -> None:
    """smoke-gate: a post-deploy gate for HTTP + WebSocket services on Cloud Run."""


@cli.command()
@click.argument("url", required=False)
@check_options
@click.pass_context
def check(ctx: click.Context, /, url: str | None, **options: Any) -> None:
    """Probe the service at URL and name the exact failure.

    Exit codes: 0 pass, 1 a check failed, 2 usage or configuration error,
    3 the gate could not complete its own work.
    """
    from gate.runner import run_check, run_check_targets

    try:
        report_path = _check_report_path("--report-json", options["report_json"])
        junit_path = _check_report_path("--junit", options["junit"])
        targets = _targets(ctx)
        if targets and url is not None:
            raise ConfigError("a URL and [[targets]] both given: use one or the other")
        if not targets:
            if url is None:
                raise ConfigError("give the service URL, or [[targets]] in gate.toml")
            settings, credential = _prepare(ctx, {**options, "url": url})
            _progress(f"checking {settings.url} (deadline {settings.deadline:g} s)")
            result: Any = run_check(settings, credential)
        else:
            prepared = []
            for name, target_opts in _per_target(ctx, {"url": url, **options}, targets):
                if target_opts.get("url") is None:
                    raise ConfigError(f"gate.toml: target {name!r} has no url")
                prepared.append((name, *_prepare(ctx, target_opts)))
            _progress(f"checking {len(prepared)} targets")
            result = run_check_targets(prepared)
    except GateError as error:
        _fail(error)
        return
    _finish(result, report_path, junit_path)


def _service_options(required: bool) -> Callable[[F], F]:
    # verify checks them itself, since [[targets]] may give them per target.
    return _options(
        click.option("--project", required=required, help="Google Cloud project id."),
        click.option("--region", required=required, help="Cloud Run region, e.g. europe-west1."),
        click.option("--service", required=required, help="Cloud Run service name."),
    )


service_options = _service_options(required=True)

verify_options = _options(
    click.option("--revision", metavar="REV", help="Revision to gate.  [default: latest ready]"),
    click.option(
        "--tag",
        metavar="TAG",
        help="Gate the revision deployed with --no-traffic --tag TAG, at its tag URL.",
    ),
    click.option(
        "--on-failure",
        type=click.Choice(["fail", "rollback"]),
        default="fail",
        show_default=True,
        help="What to do when a check fails.",
    ),
    click.option("--promote", is_flag=True, help="On a pass, give the revision 100% of traffic."),
    click.option("--dry-run", is_flag=True, help="Decide and report traffic changes; make none."),
    click.option(
        "--restore",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="Roll back to the traffic recorded by `gate snapshot --out FILE`.",
    ),
    click.option(
        "--iam", is_flag=True, help="Send a Google-signed ID token in X-Serverless-Authorization."
    ),
    click.option(
        "--log-settle",
        type=click.FloatRange(min=0),
        default=15.0,
        show_default=True,
        help="Seconds to keep polling Cloud Logging after the last probe.",
    ),
    click.option(
        "--ignore-log",
        multiple=True,
        type=LINES,
        metavar="REGEX",
        help="Drop log entries matching REGEX; repeatable.",
    ),
    click.option(
        "--max-log-errors",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="More ERROR entries than this fails logs.errors.",
    ),
    click.option("--no-logs", is_flag=True, help="Skip logs.errors."),
)


def _write(path: Path, text: str, option: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(GateError(f"{option} {path}: cannot write it ({exc.strerror})"))


def _finish(result: Any, report_json: Path | None, junit: Path | None) -> None:
    """Render for the terminal and for the CI around it, then exit with the verdict's code."""
    from gate import ci
    from gate.report.json_report import render_json
    from gate.report.junit import render_junit
    from gate.report.text import render_any

    _progress_done()
    click.echo(render_any(result, colour=_colour()), nl=False)
    report_path = report_json or ci.default_report_path(os.environ)
    if report_path is not None:
        _write(report_path, render_json(result), "--report-json")
    if junit is not None:
        _write(junit, render_junit(result), "--junit")
    if ci.on_github(os.environ):
        for line in ci.publish_github(result, report_path, os.environ):
            click.echo(line)
    if result.error is not None:
        click.echo(f"gate: error: {result.error}", err=True)
    sys.exit(result.exit_code)


def _progress(message: str) -> None:
    """Show what is being waited on, on one live line, when stderr is a terminal."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[K... {message}")
        sys.stderr.flush()


def _progress_done() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


@cli.command()
@_service_options(required=False)
@verify_options
@check_options
@click.pass_context
def verify(ctx: click.Context, /, **options: Any) -> None:
    """Gate a Cloud Run revision: checks, Cloud Logging errors, then rollback or promotion.

    Exit codes: 0 pass, 1 the release failed (even after a rollback), 2 usage or
    configuration error, 3 the gate could not complete its own work.
    """
    from gate.verify import Verifier, run_verify_targets

    try:
        report_path = _check_report_path("--report-json", options["report_json"])
        junit_path = _check_report_path("--junit", options["junit"])
        targets = _targets(ctx)
        if not targets:
            verify_options = _verify_options(options)
            settings, credential = _prepare(ctx, {**options, "url": _RESOLVED_LATER})
            result: Any = Verifier(settings, credential, verify_options, _progress).run()
        else:
            prepared = []
            for name, target_opts in _per_target(ctx, options, targets):
                verify_options = _verify_options(target_opts)
                settings, credential = _prepare(ctx, {**target_opts, "url": _RESOLVED_LATER})
                prepared.append((name, settings, credential, verify_options))
            result = run_verify_targets(prepared, _progress)
    except GateError as error:
        _fail(error)
        return
    _finish(result, report_path, junit_path)


def _bind_environment(*commands: click.Command) -> frozenset[str]:
    """Give every option of ``commands`` its GATE_* variable; return all option names."""
    from gate.configfile import env_name

    names: set[str] = set()
    for command in commands:
        for param in command.params:
            if param.name and param.name != "config":
                param.envvar = env_name(param.name)
                names.add(param.name)
    return frozenset(names)


KNOWN_OPTIONS = _bind_environment(check, verify)
CONFIG_SECTIONS: tuple[str, ...] = ("scenario", "targets")


def _verify_options(options: dict[str, Any]) -> Any:
    """The Cloud-facing options of one ``gate verify`` target."""
    from gate.verify import VerifyOptions

    for required in ("project", "region", "service"):
        if not options.get(required):
            raise ConfigError(f"--{required} is required (a flag, GATE_{required.upper()}, "
                              "or a gate.toml key)")  # fmt: skip
    restore = options["restore"]
    if restore and options["on_failure"] != "rollback":
        raise ConfigError("--restore needs --on-failure rollback")
    return VerifyOptions(
        project=options["project"],
        region=options["region"],
        service=options["service"],
        revision=options["revision"],
        tag=options["tag"],
        on_failure=options["on_failure"],
        promote=options["promote"],
        dry_run=options["dry_run"],
        iam=options["iam"],
        logs=not options["no_logs"],
        log_settle=options["log_settle"],
        ignore_log=tuple(options["ignore_log"]),
        max_log_errors=options["max_log_errors"],
        restore=Path(restore) if restore else None,
    )


def _run_action(func: Callable[..., dict[str, Any]], *args: Any) -> None:
    from gate.report.text import action_line

    try:
        action = func(*args)
    except GateError as error:
        _fail(error)
        return
    click.echo(action_line(action))
    sys.exit(EXIT_PASS)


@cli.command()
@service_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    required=True,
    metavar="FILE",
    help="Where to write the snapshot (JSON).",
)
def snapshot(project: str, region: str, service: str, out: str) -> None:
    """Record the service's traffic before a deploy, for `--restore` later."""
    from gate.manage import take_snapshot

    try:
        data = take_snapshot(project, region, service, Path(out))
    except GateError as error:
        _fail(error)
        return
    shares = ", ".join(f"{t['revision']} ({t['percent']}%)" for t in data["traffic"])
    click.echo(f"snapshot of {service}: {shares} -> {out}")


@cli.command()
@service_options
@click.option("--to", metavar="REV", help="Revision to send 100% of traffic to.")
@click.option(
    "--restore",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Restore the traffic recorded by `gate snapshot`.",
)
@click.option("--dry-run", is_flag=True, help="Plan and report; change nothing.")
def rollback(
    project: str, region: str, service: str, to: str | None, restore: str | None, dry_run: bool
) -> None:
    """Send traffic back: to --to, to a snapshot, or to the previous ready revision."""
    from gate.manage import rollback as do_rollback

    _run_action(do_rollback, project, region, service, to,
                Path(restore) if restore else None, dry_run)  # fmt: skip


@cli.command()
@service_options
@click.option("--revision", metavar="REV", help="Revision to promote.  [default: latest ready]")
@click.option("--tag", metavar="TAG", help="Promote the revision carrying this tag.")
@click.option("--dry-run", is_flag=True, help="Plan and report; change nothing.")
def promote(
    project: str, region: str, service: str, revision: str | None, tag: str | None, dry_run: bool
) -> None:
    """Give a revision 100% of traffic (as LATEST when it is the latest ready revision)."""
    from gate.manage import promote_revision

    _run_action(promote_revision, project, region, service, revision, tag, dry_run)


@cli.command()
@click.option(
    "--fault",
    type=click.Choice(sorted(FAULTS)),
    default="close-on-message",
    show_default=True,
    help="The failure the second sandbox reproduces.",
)
@click.option(
    "--report-json",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="Write the JSON report here too.",
)
def demo(fault: str, report_json: str | None) -> None:
    """Run `gate verify` against a local Cloud Run: a failing release rolled back.

    With --fault none: a release deployed with a tag, passed and promoted.
    Exits with the gate's own exit code (1 for a failed release).
    """
    from gate.demo import run_demo

    try:
        report_path = _check_report_path("--report-json", report_json)
        story, result = run_demo(fault)
    except GateError as error:
        _fail(error)
        return
    click.echo(f"demo: {story}\n")
    _finish(result, report_path, None)


@cli.group()
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
def sandbox_serve(
    host: str, port: int, fault: str, cold_start_s: float, jwt_secret_env: str, delay_ms: float
) -> None:
    """Serve the sandbox until interrupted."""
    from gate.sandbox.service import Sandbox, SandboxConfig

    secret = os.environ.get(jwt_secret_env) or None
    config = SandboxConfig(
        fault=fault, jwt_secret=secret, cold_start_s=cold_start_s, delay_s=delay_ms / 1000.0
    )

    async def serve() -> None:
        server = Sandbox(config, host, port)
        try:
            await server.start()
        except OSError as exc:
            raise GateError(
                f"cannot listen on {host}:{port} ({exc.strerror}): pick another --port"
            ) from None
        auth = f"auth from ${jwt_secret_env}" if secret else f"no auth (${jwt_secret_env} unset)"
        click.echo(f"sandbox on {server.url} · fault {fault}: {FAULTS[fault]} · {auth}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        await server.stop()

    try:
        asyncio.run(serve())
    except GateError as error:
        _fail(error)


@sandbox.command("faults")
def sandbox_faults() -> None:
    """List the faults the sandbox can reproduce."""
    for name, description in FAULTS.items():
        click.echo(f"{name:<24} {description}")


def main() -> None:
    """Console-script entry point."""
    with contextlib.suppress(KeyboardInterrupt):
        cli(prog_name="gate")
