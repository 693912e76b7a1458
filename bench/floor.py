"""The cheapest process that walks the gate's dependent chain: connect, upgrade, one exchange.

    GATE_TOKEN=...      python bench/floor.py ws://127.0.0.1:PORT/ws   # a ready token
    GATE_JWT_SECRET=... python bench/floor.py ws://127.0.0.1:PORT/ws   # mints HS256 with pyjwt

It imports only what that chain needs (websockets' asyncio client, and pyjwt
when it mints), offers the token as the ``jwt.<base64url>`` subprotocol beside
``chat.v1``, sends the gate's default first message and waits for one reply.
bench.py times it as a whole process against `gate check` given the same credential.
"""

import asyncio
import base64
import os
import sys
import time

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol


def token() -> str:
    if "GATE_TOKEN" in os.environ:
        return os.environ["GATE_TOKEN"]
    import jwt

    claims = {"sub": "bench", "exp": int(time.time()) + 300}
    return jwt.encode(claims, os.environ["GATE_JWT_SECRET"], algorithm="HS256")


async def main(url: str) -> None:
    encoded = base64.urlsafe_b64encode(token().encode()).decode().rstrip("=")
    offered = [Subprotocol(f"jwt.{encoded}"), Subprotocol("chat.v1")]
    async with connect(url, subprotocols=offered, compression=None) as socket:
        await socket.send('{"type":"ping"}')
        await socket.recv()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
