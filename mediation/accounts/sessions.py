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
_RENEW = "mediation.session_renew"
_NEW_ID = "mediation.session_new_id"


def renew_session(connection: ASGIConnection) -> None:
    """Give the session a new id when the response is sent, and drop the old one from the store.

    Litestar keeps the id of the incoming cookie even across ``clear_session()``, so an id
    planted in a browser before sign-in would otherwise become a signed-in session (fixation).
    Call it at sign-in and whenever the user's privileges change."""
    connection.scope[_RENEW] = True  # type: ignore[literal-required]


class QuietSessionBackend(ServerSideSessionBackend):
    """Litestar's backend stores the session after every response; reading a page then costs a
    store write (a file or a Redis round trip). This one skips the write when nothing changed.
    The session therefore expires ``max_age`` after it last changed (sign-in), not after the
    last page view."""

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope[_LOADED] = dict(data)  # type: ignore[literal-required]
        return data

    def get_session_id(self, connection: ASGIConnection) -> str:
        return connection.scope.get(_NEW_ID) or super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        scope = connection.scope
        loaded = scope.get(_LOADED)
        if scope.get(_RENEW) and not scope.get(_NEW_ID):
            old_id = connection.cookies.get(self.config.key)
            if old_id and old_id != "null":
                await self.delete(old_id, store=self.config.get_store_from_app(scope["app"]))
            scope[_NEW_ID] = self.generate_session_id()  # type: ignore[literal-required]
            if old_id and old_id != "null":
                # Signing out: the browser's cookie is cleared even though nothing is stored.
                await super().store_in_message(scope_session, message, connection)
                return
        elif scope_session is not Empty and loaded and scope_session == loaded:
            return
        # A request that came without a session and left none (static files, public pages,
        # Open311, health checks) creates nothing: no file, no Redis key, no cookie.
        if not loaded and not scope_session:
            return
        await super().store_in_message(scope_session, message, connection)


@dataclass
class QuietSessionConfig(ServerSideSessionConfig):
    _backend_class = QuietSessionBackend  # type: ignore[assignment]
