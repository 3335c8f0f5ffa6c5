"""Who is entitled to a case: the one rule every page, list, print and notification follows.

A case is open to
- the team of its grid (the grid worker and the community police officer on that grid),
  and whoever registered it;
- the mediators assigned to it (an active assignment), wherever the case is;
- centre staff and administrators whose region holds the case's community.

Nobody else: a volunteer or mediator with no assignment sees no case, a department handler
sees none, a grid worker of another grid sees none. A case someone may not open answers
exactly like a missing one (404), so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mediation.accounts.services import CurrentUser
from mediation.cases.tables import Case, CaseMediator
from mediation.grid.tables import TeamMember
from mediation.roles import AREA_ROLES, CASE_ROLES, MEDIATOR_ROLES, TEAM_ROLES

# Roles that see every case of their region subtree.
# Who may see an ID number or phone in full (on screen or printed), on a case they may open.
REVEAL_ROLES = CASE_ROLES


def may_reveal(user: CurrentUser) -> bool:
    return user.has_role(*REVEAL_ROLES)


def sees_area(user: CurrentUser, region_path: str | None) -> bool:
    return user.has_role(*AREA_ROLES) and user.can_see_path(region_path)


async def team_grids(user: CurrentUser) -> list[int]:
    if not user.has_role(*TEAM_ROLES):
        return []
    rows = await TeamMember.select(TeamMember.grid).where(TeamMember.staff == user.id)
    return [r["grid"] for r in rows]


# Built once (Piccolo copies a referenced table's columns each time one is named).
_ASSIGNED_STAFF = CaseMediator.mediator.staff


async def assigned_case_ids(user: CurrentUser) -> list[int]:
    if not user.has_role(*MEDIATOR_ROLES):
        return []
    rows = await CaseMediator.select(CaseMediator.case).where(
        _ASSIGNED_STAFF == user.id, CaseMediator.active.eq(True)
    )
    return [r["case"] for r in rows]


async def entitled_to_case(user: CurrentUser | None, case: Mapping[str, Any] | None) -> bool:
    """Whether ``user`` may open ``case`` (a mapping with ``id``, ``grid``, ``region_path``
    and, if known, ``registered_by``)."""
    if user is None or case is None:
        return False
    if sees_area(user, case.get("region_path")):
        return True
    if user.has_role(*TEAM_ROLES):
        if case.get("registered_by") == user.id:
            return True
        if await TeamMember.exists().where(
            TeamMember.staff == user.id, TeamMember.grid == case.get("grid")
        ):
            return True
    if user.has_role(*MEDIATOR_ROLES):
        return await CaseMediator.exists().where(
            CaseMediator.case == case.get("id"),
            _ASSIGNED_STAFF == user.id,
            CaseMediator.active.eq(True),
        )
    return False


async def case_entitled(user: CurrentUser | None, case_id: int) -> bool:
    """Entitlement by id, for records that hang off a case (documents, materials, sessions)."""
    row = (
        await Case.select(Case.id, Case.grid, Case.region_path, Case.registered_by)
        .where(Case.id == case_id)
        .first()
    )
    return await entitled_to_case(user, row)


async def entitled_case_ids(user: CurrentUser, case_ids: Iterable[int]) -> set[int]:
    """The subset of ``case_ids`` the user may open, in a few queries (lists, notifications)."""
    ids = list({i for i in case_ids if i is not None})
    if not ids:
        return set()
    rows = await Case.select(Case.id, Case.grid, Case.region_path, Case.registered_by).where(
        Case.id.is_in(ids)
    )
    grids = set(await team_grids(user))
    assigned = set(await assigned_case_ids(user))
    return {
        r["id"]
        for r in rows
        if sees_area(user, r["region_path"])
        or r["id"] in assigned
        or (user.has_role(*TEAM_ROLES) and (r["grid"] in grids or r["registered_by"] == user.id))
    }


async def case_scope(
    user: CurrentUser, grids: list[int] | None = None, assigned: list[int] | None = None
) -> Any | None:
    """A Piccolo condition selecting the cases the user may open; None when they may open none.

    Lists and counts use it, so a list never shows a case its detail page would refuse.
    ``grids`` and ``assigned``: ``team_grids(user)`` and ``assigned_case_ids(user)`` if the
    caller has read them already."""
    conditions: list[Any] = []
    if user.has_role(*AREA_ROLES):
        conditions.append(
            Case.region_path.like(user.region_path + "%") if user.region_path else Case.id > 0
        )
    if user.has_role(*TEAM_ROLES):
        grids = await team_grids(user) if grids is None else grids
        if grids:
            conditions.append(Case.grid.is_in(grids))
        conditions.append(Case.registered_by == user.id)
    ids = await assigned_case_ids(user) if assigned is None else assigned
    if ids:
        conditions.append(Case.id.is_in(ids))
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined | condition
    return combined
