"""Chat rooms of the sandbox: what the WebSockets guide's chat sample does, in memory.

A socket joins a room (``{"type": "join", "room": R}``, answered ``{"type": "joined"}``) and
says something to it (``{"type": "say", "room": R, "text": T}``, answered ``{"type":
"sent"}``); every other member of the room gets ``{"type": "said", "room": R, "from": SUB,
"text": T}``. One :class:`Rooms` shared by every instance of a revision stands for the shared
pub/sub the guide asks for (Memorystore for Redis, Firestore); one per instance is the bug it
warns about (``no-pubsub``): a broadcast reaches only the sockets on the same instance
(https://cloud.google.com/run/docs/triggering/websockets, "Synchronizing data between
instances").
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed


class Rooms:
    """The members of each room, and the broadcast to them."""

    def __init__(self) -> None:
        self._members: defaultdict[str, set[ServerConnection]] = defaultdict(set)

    def join(self, room: str, connection: ServerConnection) -> None:
        """``connection`` receives what is said in ``room`` from now on."""
        self._members[room].add(connection)

    def leave(self, connection: ServerConnection) -> None:
        """``connection`` closed: it leaves every room."""
        for members in self._members.values():
            members.discard(connection)

    async def say(self, room: str, sender: ServerConnection, who: str, text: str) -> None:
        """Send ``text`` to every other member of ``room``."""
        message = json.dumps({"type": "said", "room": room, "from": who, "text": text})
        for member in list(self._members[room]):
            if member is not sender:
                with contextlib.suppress(ConnectionClosed):
                    await member.send(message)
