"""The cheapest process that walks the gate's dependent chain: connect, upgrade, one exchange.

    GATE_TOKEN=... python bench/floor.py ws://127.0.0.1:PORT/ws

It imports only what that chain needs (websockets' asyncio client), offers the
token from ``GATE_TOKEN`` as the ``jwt.<base64url>`` subprotocol beside
``chat.v1``, sends the gate's default first message and waits for one reply.
bench.py times it as a whole process against `gate check` given the same token.
"""

import asyncio
import base64
import os
import sys

from websockets.asyncio.client import connect


async def main(url: str) -> None:
    token = base64.urlsafe_b64encode(os.environ["GATE_TOKEN"].encode()).decode().rstrip("=")
    offered = [f"jwt.{token}", "chat.v1"]
    async with connect(url, subprotocols=offered, compression=None) as socket:  # type: ignore[arg-type]
        await socket.send('{"type":"ping"}')
        await socket.recv()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
