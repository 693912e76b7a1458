"""A hostile service for redaction tests: it reflects every secret the gate sends, in every shape.

What it reflects, and where:

* each request header verbatim, in the health body and the upgrade's refusal body;
* a credential alone, without its scheme (``Bearer S`` -> ``S``), in a body and a
  response header value;
* secrets in response header *names* (``X-Seen-S: 1``);
* URL-encoded forms in a redirect's ``Location`` (``?h=Bearer%20S``, ``+`` for spaces);
* the token of the subprotocol decoded, as a whole and as its three JWT segments
  quoted apart (the signature in full);
* every secret after padding that puts it across the gate's 300-character excerpt,
  at a different offset on each health path (``/h/<offset>``);
* the token cut by the WebSocket close reason's 123-byte limit.

``mode`` picks which checks pass: ``pass`` (everything healthy, reflections in
the passing checks' evidence), ``fail-http`` (health answers 500, a redirect,
the upgrade is refused with the reflection as its body), ``fail-close`` (the
socket closes on the first message with a reason holding the cut token) or
``redirect-ws`` (the upgrade is answered ``301`` to an ``http://`` URL holding
the offered subprotocol, the token and its signature).
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, quote_plus

import jwt
from aiohttp import WSMsgType, web

EXCERPT = 300


def _token(request: web.Request) -> str | None:
    for value in request.headers.getall("Sec-WebSocket-Protocol", []):
        for name in (v.strip() for v in value.split(",")):
            if name.startswith("jwt."):
                encoded = name[4:] + "=" * (-len(name[4:]) % 4)
                try:
                    return base64.urlsafe_b64decode(encoded).decode()
                except (ValueError, UnicodeDecodeError):
                    return None
    return None


class Reflector:
    """The aiohttp application, and every secret it saw (for the test to look for)."""

    def __init__(self, jwt_secret: str, mode: str) -> None:
        self.jwt_secret = jwt_secret
        self.mode = mode
        self.tokens: list[str] = []
        self.headers: dict[str, str] = {}
        self.app = web.Application()
        self.app.router.add_get("/h/{offset}", self._health)
        self.app.router.add_get("/redirect", self._redirect)
        self.app.router.add_get("/ws", self._ws)

    def _sensitive(self, request: web.Request) -> dict[str, str]:
        found = {
            k: v
            for k, v in request.headers.items()
            if k.lower() == "authorization" or k.lower().startswith("x-")
        }
        self.headers.update(found)
        return found

    def _shapes(self, request: web.Request, token: str | None) -> dict[str, Any]:
        """Every shape of every secret in the request, keyed by what it is."""
        found = self._sensitive(request)
        offered = request.headers.get("Sec-WebSocket-Protocol")
        shapes: dict[str, Any] = {"headers": found, "offered": offered}
        auth = found.get("Authorization", "")
        if " " in auth:
            shapes["credential"] = auth.split(" ", 1)[1]
        shapes["url"] = {name: quote(v, safe="") for name, v in found.items()}
        if token:
            header, claims, signature = token.split(".")
            shapes["token"] = token
            shapes["segments"] = [header, claims]
            shapes["signature"] = signature
        return shapes

    @staticmethod
    def _cut(head: str, secret: str, kept: int) -> str:
        """``head``, padding, then ``secret``: the excerpt keeps ``kept`` characters of it."""
        return head + "x" * max(0, EXCERPT - len(head) - kept) + secret

    def _reflecting_headers(self, request: web.Request) -> dict[str, str]:
        found = self._sensitive(request)
        out: dict[str, str] = {}
        for name, value in found.items():
            alone = value.split(" ", 1)[-1]
            out[f"X-Seen-{alone}"] = "1"  # the secret in a header name
            out[f"X-Value-{name}"] = alone
            out[f"X-Quoted-{name}"] = quote(value, safe="")
        return out

    async def _health(self, request: web.Request) -> web.Response:
        kept = int(request.match_info["offset"])
        shapes = self._shapes(request, None)
        secrets = "|".join(v.split(" ", 1)[-1] for v in shapes["headers"].values())
        # The secrets first, cut by the excerpt, then every other shape.
        text = self._cut('{"status": "ok", "cut": "', secrets, kept) + '", "shapes": '
        text += json.dumps(shapes) + "}"
        status = 500 if self.mode == "fail-http" else 200
        return web.Response(
            text=text,
            status=status,
            content_type="application/json",
            headers=self._reflecting_headers(request),
        )

    async def _redirect(self, request: web.Request) -> web.Response:
        found = self._sensitive(request)
        query = "&".join(
            f"h{i}={quote(value, safe='')}&p{i}={quote_plus(value)}"
            for i, value in enumerate(found.values())
        )
        raise web.HTTPFound(f"/next?{query}", headers=self._reflecting_headers(request))

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        token = _token(request)
        if token:
            self.tokens.append(token)
        shapes = self._shapes(request, token)
        if self.mode == "redirect-ws":
            # An http:// Location is no WebSocket URI: websockets raises InvalidURI quoting it.
            offered = request.headers.get("Sec-WebSocket-Protocol", "").split(",")[0].strip()
            signature = shapes.get("signature", "")
            raise web.HTTPMovedPermanently(
                f"http://{request.host}/ws/?p={quote(offered, safe='')}&t={token}&s={signature}"
            )
        if self.mode == "fail-http":
            body = self._cut('{"error": "forbidden", "token": "', token or "", 150)
            body += '", "shapes": ' + json.dumps(shapes) + "}"
            return web.Response(text=body, status=403, headers=self._reflecting_headers(request))
        try:
            jwt.decode(token or "", self.jwt_secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return web.json_response({"error": "unauthorized", **shapes}, status=401)
        socket = web.WebSocketResponse(protocols=("chat.v1",))
        socket.headers.update(self._reflecting_headers(request))
        if token:
            header, claims, signature = token.split(".")
            socket.headers.update({"X-Token": token, "X-Signature": signature})
            socket.headers.update({"X-Segments": f"{header} {claims}"})
        await socket.prepare(request)
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            if self.mode == "fail-close":
                reason = f"t={token}".encode()[:123]
                await socket.close(code=1011, message=reason)
                break
            offered = request.headers.get("Sec-WebSocket-Protocol", "")
            encoded = offered.split(",")[0].strip()
            # The signature alone, then 95% of the offered protocol kept by the excerpt.
            head = json.dumps({"type": "pong", "signature": shapes.get("signature")})
            reply = self._cut(head[:-1] + ', "cut": "', encoded, len(encoded) * 95 // 100)
            await socket.send_str(reply + '", "shapes": ' + json.dumps(shapes) + "}")
        return socket
