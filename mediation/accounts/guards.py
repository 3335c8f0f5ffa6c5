"""Guards and scoping helpers every handler uses: roles, and the user's region subtree."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from mediation.accounts.services import CurrentUser


def current_user(connection: ASGIConnection) -> CurrentUser:
    user = connection.scope.get("user")
    if not isinstance(user, CurrentUser):
        raise NotAuthorizedException()
    return user


def requires_role(*roles: str) -> Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]:
    """Guard: the signed-in user holds at least one of ``roles``.

    A coroutine function: Litestar runs a plain function guard in a worker thread, a thread
    hop on every request for a set lookup."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        if not current_user(connection).has_role(*roles):
            raise PermissionDeniedException()

    guard.__name__ = f"requires_role({', '.join(roles)})"
    return guard


class InRegion(Protocol):
    """A record that lies in a region: scoping compares its materialised path."""

    @property
    def region_path(self) -> str: ...


Located = TypeVar("Located", bound=InRegion)


def ensure_visible(user: CurrentUser, record: Located | None) -> Located:
    """A record outside the user's subtree answers exactly like a missing one (no id probing)."""
    if record is None or not user.can_see_path(record.region_path):
        raise NotFoundException()
    return record


def scoped(query: Any, path_column: Any, user: CurrentUser) -> Any:
    """Limit a Piccolo query to rows whose region path lies in the user's subtree."""
    if user.region_path:
        return query.where(path_column.like(user.region_path + "%"))
    return query
