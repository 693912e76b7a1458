"""Building every Google API client, and the shape the per-project ones share.

Every client is either the real one (default credentials, the API's endpoint)
or, when the settings name an emulator's endpoint for its API
(:class:`~gate.config.endpoints.Endpoints`), the same client class on a
plaintext gRPC channel to it; nothing else in the code knows.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from gate.cloud.calls import Budget


def build(client_class: Any, transport_class: Any, endpoint: str | None) -> Any:
    """``client_class()``, or the client on a plaintext channel to ``endpoint`` (an emulator)."""
    if not endpoint:
        return client_class()
    import grpc

    return client_class(transport=transport_class(channel=grpc.insecure_channel(endpoint)))


def build_rest(client_class: Any, credentials: Any, endpoint: str | None) -> Any:
    """``client_class`` over REST, called with ``credentials`` (an emulator at ``endpoint``,
    when given): IAM Credentials, whose callers hold credentials of their own."""
    options = {"api_endpoint": endpoint} if endpoint else None
    return client_class(credentials=credentials, transport="rest", client_options=options)


class ProjectClient:
    """One API client for one project, its calls bounded by a :class:`Budget`.

    Subclasses name their API (for messages), the role it needs, and how to
    build the client.
    """

    API: ClassVar[str]
    ROLE: ClassVar[str]

    def __init__(self, project: str, client: Any, budget: Budget) -> None:
        self.project = project
        self._client = client
        self.budget = budget

    @staticmethod
    def build_client(endpoint: str | None) -> Any:
        """The library's client (see :func:`build`)."""
        raise NotImplementedError

    @classmethod
    async def connect(cls, project: str, budget: Budget, endpoint: str | None = None) -> Self:
        """Build the client within ``budget`` (``endpoint``: an emulator's host:port)."""
        client = await budget.call(
            lambda: cls.build_client(endpoint), f"connect to the {cls.API} API", cls.ROLE
        )
        return cls(project, client, budget)

    def close(self) -> None:
        """Close the client's channel."""
        self._client.transport.close()

    def within(self, budget: Budget) -> Self:
        """The same client, with calls bounded by another budget (e.g. a canary step's)."""
        return type(self)(self.project, self._client, budget)
