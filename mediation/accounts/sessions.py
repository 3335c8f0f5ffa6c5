"""Server-side sessions that are written only when they change, not on every response."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import StorageObject
from litestar.stores.file import FileStore
from litestar.types import Empty, Message, ScopeSession

from mediation.clock import utc_now

_LOADED = "mediation.session_loaded"
_RENEW = "mediation.session_renew"
_NEW_ID = "mediation.session_new_id"


def renew_session(connection: ASGIConnection) -> None:
    """Give the session a new id when the response is sent, and drop the old one from the store.

    Litestar keeps the id of the incoming cookie even across ``clear_session()``, so an id
    planted in a browser before sign-in would otherwise become a signed-in session (fixation).
    Call it at sign-in and whenever the user's privileges change."""
    connection.scope[_RENEW] = True  # type: ignore[literal-required]  # our key in the scope


class QuietSessionBackend(ServerSideSessionBackend):
    """Litestar's backend stores the session after every response; reading a page then costs a
    store write (a file or a Redis round trip). This one skips the write when nothing changed.
    The session therefore expires ``max_age`` after it last changed (sign-in), not after the
    last page view."""

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope[_LOADED] = dict(data)  # type: ignore[literal-required]  # our key
        return data

    def get_session_id(self, connection: ASGIConnection) -> str:
        # The scope's TypedDict does not know our key; store_in_message puts a str there.
        new_id = cast("str | None", connection.scope.get(_NEW_ID))
        return new_id or super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        scope = connection.scope
        loaded = scope.get(_LOADED)
        if scope.get(_RENEW) and not scope.get(_NEW_ID):
            old_id = connection.cookies.get(self.config.key)
            if old_id and old_id != "null":
                await self.delete(old_id, store=self.config.get_store_from_app(scope["app"]))
            scope[_NEW_ID] = self.generate_session_id()  # type: ignore[literal-required]  # our key
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
    _backend_class = QuietSessionBackend


class SessionFileStore(FileStore):
    """Litestar's file store, reading a session in the event loop.

    Every signed-in request reads its session: a file of a few hundred bytes that the page
    cache holds. Litestar's store reads it through a worker thread (anyio), and that hop costs
    more than the read itself, in CPU and in waiting for the thread. Writes (sign-in, and at
    most once a minute per session) keep the store's atomic write in a thread."""

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        path = self._path_from_key(key)
        try:
            with open(str(path), "rb") as fh:  # noqa: ASYNC230 - a small local file, see above
                storage_obj = StorageObject.from_bytes(fh.read())
        except FileNotFoundError:
            return None
        if storage_obj.expired:
            await path.unlink(missing_ok=True)
            return None
        if renew_for and storage_obj.expires_at:
            await self.set(key, value=storage_obj.data, expires_in=renew_for)
        return storage_obj.data

    def with_namespace(self, namespace: str) -> SessionFileStore:
        if not namespace.isalnum():
            raise ValueError(f"Invalid namespace: {namespace!r}")
        return SessionFileStore(self.path / namespace)


# ---------------------------------------------------------------- sliding expiry

SESSION_LEFT = "mediation.session_left"
# A request extends the session, but the store is written at most this often (a page view
# should not cost a file or Redis write each time).
SEEN_WRITE_EVERY = 60
# Requests the page makes by itself (the notification poll) carry this header: they are not
# the user's activity and do not keep an unattended session alive.
BACKGROUND_HEADER = "x-background"


def new_session(staff_id: int, stamp: str) -> dict[str, Any]:
    """What is kept for a signed-in user: who, with which privileges, since when, last seen."""
    now = int(utc_now().timestamp())
    return {"staff_id": staff_id, "stamp": stamp, "since": now, "seen": now}


def warn_before(idle: int) -> int:
    """Seconds before the end of a session at which its pages warn: five minutes, or a
    quarter of a (very short) idle time."""
    return min(300, max(idle // 4, 1))


def still_valid(session: dict[str, Any], connection: ASGIConnection, settings: Any) -> bool:
    """Whether the session is within its idle time and its absolute cap; a request by the user
    extends the idle time (the session is then written, at most once a minute)."""
    now = int(utc_now().timestamp())
    since, seen = session.get("since"), session.get("seen")
    if not isinstance(since, int) or not isinstance(seen, int):
        # Signed in before sliding expiry: its clocks start now (the store's own expiry, the
        # cap, still applies).
        since = seen = now
        session["since"], session["seen"] = since, seen
    idle, cap = settings.session_idle, settings.session_max_age
    if now - seen >= idle or now - since >= cap:
        return False
    every = min(SEEN_WRITE_EVERY, idle // 4)
    if not connection.headers.get(BACKGROUND_HEADER) and now - seen >= every:
        seen = now
        session["seen"] = seen
    # Our key in the scope, which Litestar's TypedDict does not list.
    connection.scope[SESSION_LEFT] = min(seen + idle, since + cap) - now  # type: ignore[literal-required]
    return True


def touch(session: dict[str, Any]) -> None:
    """An explicit "stay signed in": the idle time starts again now."""
    session["seen"] = int(utc_now().timestamp())
