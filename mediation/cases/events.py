"""The case timeline and staff notifications."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from mediation.accounts.services import CurrentUser
from mediation.cases import access
from mediation.cases.tables import (
    CaseEvent,
    Notification,
)
from mediation.clock import utc_now
from mediation.db import fields_of, is_postgres
from mediation.grid.tables import Staff, TeamMember


async def record_event(
    case_id: int,
    actor: CurrentUser | None,
    action: str,
    from_status: str = "",
    to_status: str = "",
    changes: dict | None = None,
    note: str = "",
) -> None:
    await CaseEvent.insert(
        CaseEvent(
            case=case_id,
            actor=actor.id if actor else None,
            action=action,
            from_status=from_status,
            to_status=to_status,
            changes=_jsonable(changes or {}),
            note=note,
        )
    )
    # The parties hear of the events that concern them (accepted, sessions, agreement, closed).
    from mediation.portal.services import on_case_event

    await on_case_event(case_id, action, to_status)


def _jsonable(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k): _jsonable(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_jsonable(v) for v in data]
    if isinstance(data, (str, int, float, bool)) or data is None:
        return data
    return str(data)


async def notify(staff_ids: list[int], case_id: int | None, kind: str, message: str) -> None:
    if not staff_ids:
        return
    await Notification.insert(
        *[
            Notification(recipient=sid, case=case_id, kind=kind, message=message[:300])
            for sid in dict.fromkeys(staff_ids)
        ]
    )


async def notify_many(
    messages: Iterable[tuple[list[int], int | None, str, str]], batch: int = 500
) -> None:
    """Many ``notify`` calls, (staff ids, case, kind, message) each: on PostgreSQL in one
    INSERT, on SQLite in one per ``batch``."""
    rows = [
        (sid, case_id, kind, message[:300])
        for staff_ids, case_id, kind, message in messages
        for sid in dict.fromkeys(staff_ids)
    ]
    if is_postgres():
        # From arrays: one statement, whatever the number of notifications.
        if rows:
            columns = list(zip(*rows, strict=True))
            await Notification.raw(
                'INSERT INTO "notification" ("recipient", "case", "kind", "message", '
                '"created_at", "read") SELECT r, c, k, m, {}, false FROM unnest('
                "{}::int[], {}::int[], {}::text[], {}::text[]) AS u(r, c, k, m)",
                utc_now(),
                *[list(column) for column in columns],
            )
        return
    for start in range(0, len(rows), batch):
        await Notification.insert(
            *[
                Notification(recipient=sid, case=case_id, kind=kind, message=message)
                for sid, case_id, kind, message in rows[start : start + batch]
            ]
        )


async def unread_count(user: CurrentUser) -> int:
    """Unread notifications the inbox shows (those about a case the user may no longer open
    are left out there, so they are not counted here either)."""
    rows = await Notification.select(Notification.case).where(
        Notification.recipient == user.id, Notification.read.eq(False)
    )
    cases = {r["case"] for r in rows if r["case"] is not None}
    allowed = await access.entitled_case_ids(user, cases) if cases else set()
    return sum(1 for r in rows if r["case"] is None or r["case"] in allowed)


@dataclass(frozen=True, slots=True)
class NotificationRow:
    """A notification in someone's inbox (see ``tables.Notification``)."""

    id: int
    recipient: int
    case: int | None
    case_number: str | None
    kind: str
    message: str
    created_at: datetime
    read: bool


async def notifications_for(user: CurrentUser, limit: int = 50) -> list[NotificationRow]:
    """The user's latest notifications; one about a case they may no longer open (a mediator
    taken off it) is left out, so nothing points to a page that would refuse them."""
    rows = (
        await Notification.select(*Notification.all_columns(), Notification.case._.number)
        .where(Notification.recipient == user.id)
        .order_by(Notification.id, ascending=False)
        .limit(limit)
    )
    allowed = await access.entitled_case_ids(user, [r["case"] for r in rows])
    return [
        NotificationRow(**fields_of(r, {"case.number": "case_number"}))
        for r in rows
        if r["case"] is None or r["case"] in allowed
    ]


async def mark_notifications_read(user: CurrentUser) -> None:
    await Notification.update({Notification.read: True}).where(
        Notification.recipient == user.id, Notification.read.eq(False)
    )


@dataclass(frozen=True, slots=True)
class TeamMemberRow:
    """Someone on a grid's team: a grid worker, a police officer, a community officer."""

    staff: int
    role: str


async def grid_team(grid_id: int) -> list[TeamMemberRow]:
    rows = await TeamMember.select(TeamMember.staff, TeamMember.role).where(
        TeamMember.grid == grid_id
    )
    return [TeamMemberRow(**r) for r in rows]


@lru_cache(maxsize=4096)
def centre_target(region_path: str, level: str) -> str:
    """The region path of the centre responsible at ``level`` for a community path."""
    parts = [p for p in region_path.split("/") if p]
    depth = {"community": 3, "town": 2, "county": 1}.get(level, 2)
    if level == "grid":
        depth = 3
    return "/" + "/".join(parts[:depth]) + "/"


async def centre_staff(region_path: str, level: str) -> list[int]:
    """Centre staff responsible at ``level`` for a community path (town or county centre)."""
    target = centre_target(region_path, level)
    rows = await Staff.select(Staff.id, Staff.roles).where(
        Staff.region.path == target, Staff.active.eq(True)
    )
    return [r["id"] for r in rows if "centre_staff" in (r["roles"] or [])]
