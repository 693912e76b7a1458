"""The one table of the gate's options: every option of every gate command, declared once.

Each row gives the option's name (which is also its ``gate.toml`` key and, in
upper case after ``GATE_``, its environment variable), its flag, type,
default, help, and the commands it belongs to. The click options are built
from it (:mod:`gate.cli.options`); the README's configuration table is
generated from it (``tools/options_table.py``) and a test keeps the two equal.
The sandbox's and the demo's few options are not here: they configure the
reference service, not the gate, and read no ``GATE_*`` variable or file.
"""

from __future__ import annotations

import click

from gate.cli.options import HOUR, LINES, SECONDS, Finite, Option
from gate.config.settings import DEFAULT_SEND

CHECK = ("check",)
PROBES = ("check", "verify")
VERIFY = ("verify",)
SERVICE = ("verify", "snapshot", "rollback", "promote")
PATH = click.Path(dir_okay=False)
MAX_LOAD = 1000
"""The most connections or samples a run opens: beyond it the gate is a load tester."""

OPTIONS: tuple[Option, ...] = (
    Option("url", "URL", "The service's base URL.", CHECK, argument=True, shown="(required)"),
    Option("health_path", "--health-path", "Health endpoint path; repeatable.", PROBES,
           multiple=True, metavar="PATH", shown="/health"),
    Option("expect_status", "--expect-status", "Expected status of each health path.", PROBES,
           type=click.IntRange(100, 599), default=200),
    Option("expect_body", "--expect-body", "JSON subset the health body must contain.", PROBES,
           metavar="JSON"),
    Option("ws_path", "--ws-path", "WebSocket path.", PROBES, default="/ws"),
    Option("subprotocol_template", "--subprotocol-template",
           "How the token is offered as a subprotocol ({token}, {token_b64url}).", PROBES,
           default="jwt.{token_b64url}"),
    Option("subprotocol", "--subprotocol", "A plain subprotocol to offer as well; repeatable.",
           PROBES, multiple=True, metavar="NAME"),
    Option("expect_subprotocol", "--expect-subprotocol",
           "The subprotocol the server must select.", PROBES, metavar="NAME"),
    Option("send", "--send", "First message to send after the upgrade.", PROBES,
           default=DEFAULT_SEND, metavar="TEXT"),
    Option("no_send", "--no-send", "Send nothing; only listen for a message.", PROBES,
           is_flag=True),
    Option("expect", "--expect",
           "Expected reply: a JSON subset if it parses as an object, else a substring.", PROBES,
           metavar="TEXT"),
    Option("message_timeout", "--message-timeout", "Seconds to wait for the reply.", PROBES,
           type=SECONDS, default=10.0),
    Option("max_message_size", "--max-message-size", "Largest message accepted, in bytes.",
           PROBES, type=click.IntRange(min=1), default=1 << 20),
    Option("check_auth", "--check-auth/--no-check-auth",
           "Check that the socket refuses missing, forged and expired tokens.", PROBES,
           default=True, shown="on"),
    Option("token_env", "--token-env", "Variable holding a ready token.", PROBES,
           default="GATE_TOKEN", metavar="VAR"),
    Option("jwt_secret_env", "--jwt-secret-env",
           "Variable holding an HS256 secret to mint tokens with.", PROBES,
           default="GATE_JWT_SECRET", metavar="VAR"),
    Option("jwt_key_file", "--jwt-key-file",
           "RSA or EC private key to mint RS256/ES256 tokens with.", PROBES, type=PATH,
           metavar="PEM"),
    Option("jwt_algorithm", "--jwt-algorithm", "Override the minting algorithm.", PROBES,
           metavar="ALG"),
    Option("jwt_subject", "--jwt-subject", "sub claim of minted tokens.", PROBES, metavar="SUB"),
    Option("jwt_audience", "--jwt-audience", "aud claim of minted tokens.", PROBES,
           metavar="AUD"),
    Option("jwt_issuer", "--jwt-issuer", "iss claim of minted tokens.", PROBES, metavar="ISS"),
    Option("jwt_claim", "--jwt-claim",
           "Extra claim (VALUE parsed as JSON when it can be); repeatable.", PROBES,
           multiple=True, type=LINES, metavar="KEY=VALUE"),
    Option("jwt_ttl", "--jwt-ttl", "Lifetime of minted tokens, in seconds.", PROBES,
           type=Finite(min=1, max=7 * 24 * HOUR), default=300.0),
    Option("connect_timeout", "--connect-timeout", "Seconds for DNS and TCP connect, per step.",
           PROBES, type=SECONDS, default=10.0),
    Option("read_timeout", "--read-timeout", "Seconds for a response or the upgrade, per step.",
           PROBES, type=SECONDS, default=10.0),
    Option("deadline", "--deadline", "Seconds for the whole run.", PROBES, type=SECONDS,
           default=60.0),
    Option("retry_budget", "--retry-budget",
           "Seconds of retries for cold-start outcomes (refused, 429, 502-504).", PROBES,
           type=Finite(min=0, max=HOUR), default=30.0),
    Option("ca_bundle", "--ca-bundle", "Extra CA certificates to trust (verification stays on).",
           PROBES, type=PATH, metavar="PEM"),
    Option("header", "--header",
           "Extra request header; repeatable; values are redacted in output.", PROBES,
           multiple=True, type=LINES, metavar="'NAME: VALUE'"),
    Option("connections", "--connections",
           "Also open N authenticated sockets at once (at most 1000); each must complete "
           "(ws.concurrency).", PROBES, type=click.IntRange(min=0, max=MAX_LOAD), default=0,
           shown="0 (off)"),
    Option("samples", "--samples",
           "Repeat health, handshake and first exchange N times (at most 1000); report "
           "p50/p95/max.", PROBES, type=click.IntRange(min=0, max=MAX_LOAD), default=0,
           shown="0 (off; 5 with `--budget`)"),
    Option("budget", "--budget",
           "Latency budget on p95: health, handshake or first_message, e.g. health=100ms.",
           PROBES, multiple=True, metavar="NAME=DURATION"),
    Option("strict", "--strict", "Warnings fail the run.", PROBES, is_flag=True),
    Option("report_json", "--report-json", "Write the JSON report (schema gate.report/v1) here.",
           PROBES, type=PATH, metavar="PATH"),
    Option("junit", "--junit", "Write a JUnit XML report (one testcase per check) here.", PROBES,
           type=PATH, metavar="PATH"),
    Option("project", "--project", "Google Cloud project id.", SERVICE, shown="(required)",
           required=("snapshot", "rollback", "promote")),
    Option("region", "--region", "Cloud Run region, e.g. europe-west1.", SERVICE,
           shown="(required)", required=("snapshot", "rollback", "promote")),
    Option("service", "--service", "Cloud Run service name.", SERVICE, shown="(required)",
           required=("snapshot", "rollback", "promote")),
    Option("revision", "--revision", "Revision to gate.  [default: latest ready]",
           ("verify", "promote"), metavar="REV",
           help_for={"promote": "Revision to promote.  [default: latest ready]"}),
    Option("tag", "--tag",
           "Gate the revision deployed with --no-traffic --tag TAG, at its tag URL.",
           ("verify", "promote"), metavar="TAG",
           help_for={"promote": "Promote the revision carrying this tag."}),
    Option("on_failure", "--on-failure", "What to do when a check fails.", VERIFY,
           type=click.Choice(["fail", "rollback"]), default="fail"),
    Option("promote", "--promote", "On a pass, give the revision 100% of traffic.", VERIFY,
           is_flag=True),
    Option("dry_run", "--dry-run", "Decide and report traffic changes; make none.",
           ("verify", "rollback", "promote"), is_flag=True,
           help_for={"rollback": "Plan and report; change nothing.",
                     "promote": "Plan and report; change nothing."}),
    Option("restore", "--restore",
           "Roll back to the traffic recorded by `gate snapshot --out FILE`.",
           ("verify", "rollback"), type=PATH, metavar="FILE",
           help_for={"rollback": "Restore the traffic recorded by `gate snapshot`."}),
    Option("iam", "--iam", "Send a Google-signed ID token in X-Serverless-Authorization.",
           VERIFY, is_flag=True),
    Option("log_settle", "--log-settle",
           "Seconds to keep polling Cloud Logging after the last probe.", VERIFY,
           type=Finite(min=0, max=600), default=15.0),
    Option("ignore_log", "--ignore-log", "Drop log entries matching REGEX; repeatable.", VERIFY,
           multiple=True, type=LINES, metavar="REGEX"),
    Option("max_log_errors", "--max-log-errors", "More ERROR entries than this fails logs.errors.",
           VERIFY, type=click.IntRange(min=0), default=0),
    Option("no_logs", "--no-logs", "Skip logs.errors.", VERIFY, is_flag=True),
    Option("action_timeout", "--action-timeout",
           "Seconds for the actions after the verdict: the traffic update, its operation and "
           "the rollback's re-check (a budget of their own, beside --deadline).", SERVICE,
           type=Finite(min=1, max=HOUR), default=120.0,
           help_for={"snapshot": "Seconds the read of the service may take."}),
    Option("out", "--out", "Where to write the snapshot (JSON).", ("snapshot",), type=PATH,
           metavar="FILE", required=("snapshot",), shown="(required)"),
    Option("to", "--to", "Revision to send 100% of traffic to.", ("rollback",), metavar="REV"),
)  # fmt: skip
