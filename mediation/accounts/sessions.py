"""Server-side sessions that are written only when they change, not on every response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession

_LOADED = "mediation.session_loaded"


class QuietSessionBackend(ServerSideSessionBackend):
    """Litestar's backend stores the session after every response; reading a page then costs a
    store write (a file or a Redis round trip). This one skips the write when nothing changed.
    The session therefore expires ``max_age`` after it last changed (sign-in), not after the
    last page view."""

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope[_LOADED] = dict(data)  # type: ignore[literal-required]
        return data

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        loaded = connection.scope.get(_LOADED)
        if scope_session is not Empty and loaded and scope_session == loaded:
            return
        # A request that came without a session and left none (static files, public pages,
        # Open311, health checks) creates nothing: no file, no Redis key, no cookie.
        if not loaded and not scope_session:
            return
        await super().store_in_message(scope_session, message, connection)


@dataclass
class QuietSessionConfig(ServerSideSessionConfig):
    _backend_class = QuietSessionBackend  # type: ignore[assignment]
