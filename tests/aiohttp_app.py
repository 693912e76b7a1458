"""A second stack for tests: an aiohttp service with its own WebSocket implementation.

It authenticates the ``jwt.<base64url>`` subprotocol like the sandbox, selects
``chat.v1``, and serves a health document in the format it is built with.
"""

from __future__ import annotations

import base64
from typing import Any

import jwt
from aiohttp import WSMsgType, web

SPRING = {
    "status": "UP",
    "components": {
        "db": {"status": "UP", "details": {"database": "PostgreSQL"}},
        "diskSpace": {"status": "UP"},
        "cache": {"status": "UP", "components": {"primary": {"status": "UP"}}},
    },
}
SPRING_DOWN = {
    "status": "DOWN",
    "components": {
        "db": {"status": "UP"},
        "cache": {"status": "UP", "components": {"replica": {"status": "DOWN"}}},
    },
}
IETF = {
    "status": "pass",
    "checks": {
        "postgres:responseTime": [{"componentId": "pg-1", "status": "pass"}],
        "uptime": [{"componentType": "system", "status": "pass"}],
    },
}
IETF_WARN = {
    "status": "warn",
    "checks": {"memory:utilization": [{"status": "warn", "observedValue": 91}]},
}


def _token(request: web.Request) -> str | None:
    for value in request.headers.getall("Sec-WebSocket-Protocol", []):
        for name in (v.strip() for v in value.split(",")):
            if name.startswith("jwt."):
                encoded = name[4:] + "=" * (-len(name[4:]) % 4)
                return base64.urlsafe_b64decode(encoded).decode()
    return None


def make_app(
    secret: str, health: dict[str, Any], health_status: int = 200, close_code: int | None = None
) -> web.Application:
    """The aiohttp service; ``close_code`` makes the socket close with it on the first message."""

    async def health_handler(_request: web.Request) -> web.Response:
        return web.json_response(
            health, status=health_status, content_type="application/health+json"
        )

    async def ws_handler(request: web.Request) -> web.StreamResponse:
        token = _token(request)
        try:
            jwt.decode(token or "", secret, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.PyJWTError:
            return web.json_response({"error": "unauthorized"}, status=401)
        socket = web.WebSocketResponse(protocols=("chat.v1",))
        await socket.prepare(request)
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            if close_code is not None:
                await socket.close(code=close_code, message=b"handler failed")
                break
            await socket.send_json({"type": "pong", "stack": "aiohttp"})
        return socket

    app = web.Application()
    app.router.add_get("/health", health_handler)
    app.router.add_get("/ws", ws_handler)
    return app
