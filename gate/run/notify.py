"""Posting ``--notify`` messages when a run ends: bounded in time; a failure is a warning.

The run's verdict is decided before anything is posted and never changes: a
webhook that refuses, stalls or answers an error becomes a
``notification_failed`` warning in the report (which no ``--strict`` counts).
All posts go out at once, in worker threads (requests), each within
:data:`POST_TIMEOUT_S` for connect and for the answer, and all of them within
:data:`NOTIFY_BUDGET_S`, after which the process moves on without waiting.
Redirects are not followed (a webhook that redirects is misconfigured, and
following would send the message, and its credential, elsewhere).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote, urlsplit

from gate.config.webhooks import Webhook
from gate.model import Finding, Result
from gate.probes.http import USER_AGENT
from gate.redact import Redactor
from gate.report.notify import chat_messages, json_payload, slack_message
from gate.text import excerpt, one_line
from gate.threads import blocking

NOTIFY_BUDGET_S = 10.0
"""The most all notifications together may take."""
POST_TIMEOUT_S = 5.0
"""Connect, then answer: each post's own limits."""

_CHAT_REPLY = "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"


def _posts(result: Result, hook: Webhook) -> list[tuple[str, dict[str, Any]]]:
    """The (URL, body) of each message ``hook`` gets for ``result``."""
    if hook.kind == "slack":
        return [(hook.url, slack_message(result))]
    if hook.kind == "chat":
        joiner = "&" if urlsplit(hook.url).query else "?"
        return [
            (f"{hook.url}{joiner}threadKey={quote(key)}&messageReplyOption={_CHAT_REPLY}", body)
            for key, body in chat_messages(result)
        ]
    return [(hook.url, json_payload(result))]


def _post(url: str, body: bytes, redactor: Redactor) -> str | None:
    """POST ``body``; ``None`` when the webhook took it, else why not (redacted)."""
    import requests

    from gate.probes.errors import from_requests

    try:
        response = requests.post(
            url,
            data=body,
            headers={"Content-Type": "application/json; charset=UTF-8", "User-Agent": USER_AGENT},
            timeout=(POST_TIMEOUT_S, POST_TIMEOUT_S),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        problem = from_requests(exc, redactor)
        return f"{problem.kind}: {problem.message}"
    if 200 <= response.status_code < 300:
        return None
    answer = redactor.record(one_line(response.text), 200)
    return f"answered HTTP {response.status_code}: {excerpt(answer, 200)}"


async def notify(result: Result, hooks: tuple[Webhook, ...], redactor: Redactor) -> list[Finding]:
    """Post ``result`` to every webhook; a warning for each message that did not arrive."""
    sends = []
    for hook in hooks:
        host = urlsplit(hook.url).hostname
        for url, payload in _posts(result, hook):
            body = redactor.text(json.dumps(payload, ensure_ascii=False)).encode()
            sends.append((f"{hook.kind} webhook on {host}", blocking(_post, url, body, redactor)))
    if not sends:
        return []
    tasks = [asyncio.ensure_future(send) for _label, send in sends]
    await asyncio.wait(tasks, timeout=NOTIFY_BUDGET_S)
    found = []
    for (label, _send), task in zip(sends, tasks, strict=True):
        if not task.done():
            task.cancel()
            problem: str | None = f"no answer within {NOTIFY_BUDGET_S:g} s"
        else:
            problem = task.result()
        if problem is not None:
            found.append(
                Finding("notification_failed", f"--notify {label}: {problem}; the verdict stands")
            )
    return found
