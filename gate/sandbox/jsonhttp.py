"""A small JSON-over-HTTP server on 127.0.0.1 for the emulated REST APIs (IAM Credentials,
the Prometheus API): one ``answer(path, headers, body)`` per service, in its own threads."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

Answer = Callable[[str, Mapping[str, str], dict[str, Any]], tuple[int, dict[str, Any]]]
"""``(path, headers, body) -> (status, JSON answer)``; the headers' names are lower case, the
body is the request's JSON, or its form fields."""


class JsonServer:
    """Serves ``answer`` for every POST until :meth:`stop`."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def start(self) -> str:
        """Serve on 127.0.0.1; returns the base URL."""
        answer = self._answer

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if "json" in self.headers.get("Content-Type", ""):
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw).items()}
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, answered = answer(self.path.split("?")[0], headers, body)
                data = json.dumps(answered).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class Served:
    """A service answered over a :class:`JsonServer`: :meth:`_serve` starts it, :meth:`stop`
    ends it (the service holds ``_server`` and ``url``)."""

    _server: JsonServer | None
    url: str

    def _serve(self, answer: Answer) -> str:
        self._server = JsonServer(answer)
        self.url = self._server.start()
        return self.url

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.stop()
            self._server = None
