"""Rules of the organisation model: region tree, grids and teams, reference data, audit."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from mediation.accounts.guards import scoped
from mediation.accounts.services import CurrentUser
from mediation.grid.tables import (
    AuditEvent,
    Grid,
    Mediator,
    Region,
    Staff,
    TeamMember,
)
from mediation.roles import TEAM_ROLES


class GridError(Exception):
    """A rule of the organisation model was broken; ``message`` is shown to the user."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def child_path(parent_path: str | None, code: str) -> str:
    return f"{parent_path or '/'}{code}/"


async def record_audit(
    actor: CurrentUser | None,
    action: str,
    entity: str,
    entity_id: Any = "",
    before: dict | None = None,
    after: dict | None = None,
    detail: str = "",
) -> None:
    await AuditEvent.insert(
        AuditEvent(
            actor=actor.id if actor else None,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=_jsonable(before or {}),
            after=_jsonable(after or {}),
            detail=detail,
        )
    )


def _jsonable(data: dict) -> dict:
    return {
        k: (v if isinstance(v, (str, int, float, bool, list, type(None))) else str(v))
        for k, v in data.items()
    }


async def grid_choices_for(user: CurrentUser) -> list[tuple[str, str]]:
    """(id, name) of the grids in the user's subtree, for filter menus; cached briefly."""
    key = user.region_path
    cached = _grid_choice_cache.get(key)
    if cached and time.monotonic() - cached[0] < 60:
        return cached[1]
    query = Grid.select(Grid.id, Grid.name).order_by(Grid.code).limit(500)
    rows = await scoped(query, Grid.region.path, user)
    choices = [(str(r["id"]), r["name"]) for r in rows]
    _grid_choice_cache[key] = (time.monotonic(), choices)
    return choices


_grid_choice_cache: dict[str, tuple[float, list]] = {}


@dataclass(frozen=True, slots=True)
class GridRow:
    """A grid in the grid list; ``mine`` when the user serves on its team."""

    id: int
    code: str
    name: str
    police_beat: str
    community: str
    region_path: str
    mine: bool


async def grids_for(user: CurrentUser, limit: int = 200) -> list[GridRow]:
    """Grids in the user's subtree; grid workers and police first see the grids they serve."""
    query = (
        Grid.select(
            Grid.id, Grid.code, Grid.name, Grid.police_beat, Grid.region.name, Grid.region.path
        )
        .order_by(Grid.code)
        .limit(limit)
    )
    rows = await scoped(query, Grid.region.path, user)
    mine = {
        r["grid"]
        for r in await TeamMember.select(TeamMember.grid).where(TeamMember.staff == user.id)
    }
    grids = [
        GridRow(
            id=r["id"],
            code=r["code"],
            name=r["name"],
            police_beat=r["police_beat"],
            community=r["region.name"],
            region_path=r["region.path"],
            mine=r["id"] in mine,
        )
        for r in rows
    ]
    grids.sort(key=lambda g: (not g.mine, g.code))
    return grids


@dataclass(frozen=True, slots=True)
class GridTeamMember:
    """Someone on a grid's team, as the grid's page lists them."""

    staff: int
    role: str
    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class GridDetail:
    """A grid's page: where it lies, its police beat and boundary, and its team."""

    id: int
    code: str
    name: str
    police_beat: str
    boundary: str
    community: str
    town: str
    region_path: str
    team: tuple[GridTeamMember, ...]


async def grid_detail(grid_id: int) -> GridDetail | None:
    grid = (
        await Grid.select(
            Grid.id,
            Grid.code,
            Grid.name,
            Grid.police_beat,
            Grid.boundary,
            Grid.region._.name,
            Grid.region._.path,
            Grid.region._.parent._.name,
        )
        .where(Grid.id == grid_id)
        .first()
    )
    if grid is None:
        return None
    team = (
        await TeamMember.select(
            TeamMember.role, TeamMember.staff.display_name, TeamMember.staff.phone, TeamMember.staff
        )
        .where(TeamMember.grid == grid_id)
        .order_by(TeamMember.role)
    )
    return GridDetail(
        id=grid["id"],
        code=grid["code"],
        name=grid["name"],
        police_beat=grid["police_beat"],
        boundary=grid["boundary"],
        community=grid["region.name"],
        town=grid["region.parent.name"] or "",
        region_path=grid["region.path"],
        team=tuple(
            GridTeamMember(
                staff=m["staff"],
                role=m["role"],
                name=m["staff.display_name"],
                phone=m["staff.phone"],
            )
            for m in team
        ),
    )


@dataclass(frozen=True, slots=True)
class MyTeam:
    """A grid team the signed-in person serves on, for the home page."""

    grid: int
    grid_name: str
    grid_code: str
    role: str


async def my_teams(user: CurrentUser) -> list[MyTeam]:
    rows = (
        await TeamMember.select(
            TeamMember.role, TeamMember.grid, TeamMember.grid.name, TeamMember.grid.code
        )
        .where(TeamMember.staff == user.id)
        .order_by(TeamMember.grid.code)
    )
    return [MyTeam(r["grid"], r["grid.name"], r["grid.code"], r["role"]) for r in rows]


@dataclass(frozen=True, slots=True)
class RegionRow:
    """A region of a subtree: its id, name and materialised path."""

    id: int
    name: str
    path: str


async def region_subtree(path: str) -> list[RegionRow]:
    rows = (
        await Region.select(Region.id, Region.name, Region.path)
        .where(Region.path.like(path + "%"))
        .order_by(Region.path)
    )
    return [RegionRow(**r) for r in rows]


async def counts() -> dict[str, int]:
    return {
        "regions": await Region.count(),
        "grids": await Grid.count(),
        "staff": await Staff.count(),
        "mediators": await Mediator.count(),
    }


def staff_field_errors(values: dict[str, Any]) -> dict[str, str]:
    """A staff account's phone (checked as parties' phones are, and stored normalised in
    ``values``) and a handler's department, without which their inbox stays empty."""
    from mediation.i18n import gettext as _
    from mediation.validators import ValidationError, validate_phone

    errors: dict[str, str] = {}
    if values.get("phone"):
        try:
            values["phone"] = validate_phone(values["phone"])
        except ValidationError as exc:
            errors["phone"] = exc.message
    if "handler" in (values.get("roles") or []) and not values.get("department"):
        errors["department"] = _(
            "A department handler must belong to a department: choose it here."
        )
    return errors


async def staff_change_refusals(
    pk: int | None, values: dict[str, Any], actor_id: int | None
) -> dict[str, str]:
    """Why an edit of an account is refused, keyed by field: nobody disables their own account
    or takes their own administrator role away, and the last active administrator stays one
    (else nobody could sign in to the administration pages again).
    """
    from mediation.i18n import gettext as _

    if pk is None:
        return {}
    stays_active = bool(values.get("active"))
    stays_admin = "admin" in (values.get("roles") or [])
    errors: dict[str, str] = {}
    if pk == actor_id:
        if not stays_active:
            errors["active"] = _("You cannot disable your own account.")
        if not stays_admin:
            errors["roles"] = _("You cannot remove the administrator role from your own account.")
        if errors:
            return errors
    if stays_active and stays_admin:
        return {}
    current = await Staff.select(Staff.roles, Staff.active).where(Staff.id == pk).first()
    if current is None or not current["active"] or "admin" not in (current["roles"] or []):
        return {}
    others = await Staff.select(Staff.id, Staff.roles).where(Staff.active.eq(True), Staff.id != pk)
    if any("admin" in (r["roles"] or []) for r in others):
        return {}
    message = _("At least one active system administrator must remain.")
    return {"active" if not stays_active else "roles": message}


def random_password() -> str:
    import secrets

    return secrets.token_urlsafe(18)


async def move_subtree(old_path: str, new_path: str) -> None:
    """A region's code or parent changed: rewrite the paths of everything below it."""
    rows = await Region.select(Region.id, Region.path).where(Region.path.like(old_path + "%"))
    for row in rows:
        await Region.update({Region.path: new_path + row["path"][len(old_path) :]}).where(
            Region.id == row["id"]
        )


async def add_team_member(grid_id: int, staff_id: int, role: str, actor: CurrentUser) -> None:
    """Put a grid worker or police officer on a grid's team (a person may serve several)."""
    from mediation.i18n import gettext as _

    if role not in TEAM_ROLES:
        raise GridError(_("Choose from the list."), "role")
    staff = await Staff.select(Staff.id, Staff.roles).where(Staff.id == staff_id).first()
    if staff is None or role not in (staff["roles"] or []):
        raise GridError(_("This person does not hold that role."), "staff")
    exists = await TeamMember.exists().where(
        TeamMember.grid == grid_id, TeamMember.staff == staff_id, TeamMember.role == role
    )
    if exists:
        raise GridError(_("This person is already on the team."), "staff")
    member = TeamMember(grid=grid_id, staff=staff_id, role=role)
    await member.save()
    await record_audit(
        actor, "add_team_member", "grids", grid_id, {}, {"staff": staff_id, "role": role}
    )


async def remove_team_member(grid_id: int, member_id: int, actor: CurrentUser) -> None:
    row = (
        await TeamMember.select()
        .where(TeamMember.id == member_id, TeamMember.grid == grid_id)
        .first()
    )
    if row is None:
        return
    await TeamMember.delete().where(TeamMember.id == member_id)
    await record_audit(
        actor,
        "remove_team_member",
        "grids",
        grid_id,
        {"staff": row["staff"], "role": row["role"]},
        {},
    )
