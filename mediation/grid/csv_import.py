"""CSV import of regions, grids and staff: every row is checked first; a bad row imports nothing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from mediation.accounts.services import CurrentUser, hash_password
from mediation.db import write_transaction
from mediation.grid import services
from mediation.grid.tables import Department, Grid, Region, Staff, TeamMember
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext as _l
from mediation.roles import ROLES, TEAM_ROLES
from mediation.validators import ValidationError, validate_phone

MAX_BYTES = 2 * 1024 * 1024

KINDS = {
    "regions": (_l("Regions"), ["code", "name", "level", "parent_code"]),
    "grids": (_l("Grids"), ["code", "name", "community_code", "police_beat", "boundary"]),
    "staff": (
        _l("Staff"),
        [
            "username",
            "display_name",
            "roles",
            "region_code",
            "phone",
            "password",
            "grid_code",
            "team_role",
            "department_code",
        ],
    ),
}
REQUIRED = {
    "regions": ["code", "name", "level"],
    "grids": ["code", "name", "community_code"],
    "staff": ["username", "display_name", "roles", "region_code"],
}
LEVEL_ALIASES = {
    "county": "county",
    "县": "county",
    "县级": "county",
    "市": "county",
    "区": "county",
    "town": "town",
    "镇": "town",
    "街道": "town",
    "镇街": "town",
    "镇（街道）": "town",
    "乡": "town",
    "community": "community",
    "村": "community",
    "社区": "community",
    "村社区": "community",
    "村（社区）": "community",
}
PARENT_LEVEL = {"county": None, "town": "county", "community": "town"}


@dataclass
class RowError:
    line: int
    column: str
    message: str


@dataclass
class ImportReport:
    kind: str
    created: int = 0
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, which is what spreadsheet software here writes."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError


async def import_csv(kind: str, content: bytes, actor: CurrentUser | None) -> ImportReport:
    report = ImportReport(kind=kind)
    if kind not in KINDS:
        report.errors.append(RowError(0, "kind", _("Choose what the file contains.")))
        return report
    if not content:
        report.errors.append(RowError(0, "file", _("Choose a CSV file to upload.")))
        return report
    if len(content) > MAX_BYTES:
        report.errors.append(RowError(0, "file", _("The file is too large (at most 2 MB).")))
        return report
    try:
        text = decode(content)
    except ValueError:
        report.errors.append(RowError(0, "file", _("The file is not UTF-8 or GB18030 text.")))
        return report
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED[kind] if c not in header]
    if missing:
        report.errors.append(
            RowError(
                1,
                ", ".join(missing),
                _("The header row lacks these columns: %(cols)s", cols=", ".join(missing)),
            )
        )
        return report
    rows = []
    for line, raw in enumerate(reader, start=2):
        rows.append((line, {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k}))
    report.rows = len(rows)
    if not rows:
        report.errors.append(RowError(0, "file", _("The file has no data rows.")))
        return report
    checker = {"regions": _check_regions, "grids": _check_grids, "staff": _check_staff}[kind]
    planned = await checker(rows, report)
    if report.errors:
        return report
    async with write_transaction():
        writer = {"regions": _write_regions, "grids": _write_grids, "staff": _write_staff}[kind]
        report.created = await writer(planned)
    await services.record_audit(actor, "csv_import", kind, "", {}, {"rows": report.created})
    return report


def _required(line: int, row: dict, kind: str, report: ImportReport) -> bool:
    ok = True
    for column in REQUIRED[kind]:
        if not row.get(column):
            report.errors.append(RowError(line, column, _("This field is required.")))
            ok = False
    return ok


async def _check_regions(rows: list, report: ImportReport) -> list[dict]:
    existing = {
        r["code"]: r for r in await Region.select(Region.code, Region.level, Region.path, Region.id)
    }
    seen: dict[str, dict] = {}
    planned = []
    for line, row in rows:
        if not _required(line, row, "regions", report):
            continue
        level = LEVEL_ALIASES.get(row["level"])
        if level is None:
            report.errors.append(
                RowError(line, "level", _("Level must be county, town or community."))
            )
            continue
        if row["code"] in existing or row["code"] in seen:
            report.errors.append(RowError(line, "code", _("This code is already in use.")))
            continue
        parent = None
        if row.get("parent_code"):
            parent = seen.get(row["parent_code"]) or existing.get(row["parent_code"])
            if parent is None:
                report.errors.append(RowError(line, "parent_code", _("No region has this code.")))
                continue
        if (parent["level"] if parent else None) != PARENT_LEVEL[level]:
            report.errors.append(
                RowError(
                    line,
                    "parent_code",
                    _("A county has no parent; a town belongs to a county; a community to a town."),
                )
            )
            continue
        item = {
            "code": row["code"],
            "name": row["name"],
            "level": level,
            "parent_code": row.get("parent_code") or None,
            "path": services.child_path(parent["path"] if parent else None, row["code"]),
        }
        seen[row["code"]] = item
        planned.append(item)
    return planned


async def _write_regions(planned: list[dict]) -> int:
    ids = {r["code"]: r["id"] for r in await Region.select(Region.code, Region.id)}
    for item in planned:
        region = Region(
            code=item["code"],
            name=item["name"],
            level=item["level"],
            path=item["path"],
            parent=ids.get(item["parent_code"]) if item["parent_code"] else None,
        )
        await region.save()
        ids[item["code"]] = region.id
    return len(planned)


async def _check_grids(rows: list, report: ImportReport) -> list[dict]:
    communities = {
        r["code"]: r["id"]
        for r in await Region.select(Region.code, Region.id).where(Region.level == "community")
    }
    existing = {r["code"] for r in await Grid.select(Grid.code)}
    seen: set[str] = set()
    planned = []
    for line, row in rows:
        if not _required(line, row, "grids", report):
            continue
        if row["code"] in existing or row["code"] in seen:
            report.errors.append(RowError(line, "code", _("This code is already in use.")))
            continue
        if row["community_code"] not in communities:
            report.errors.append(
                RowError(line, "community_code", _("No village/community has this code."))
            )
            continue
        seen.add(row["code"])
        planned.append(
            {
                "code": row["code"],
                "name": row["name"],
                "region": communities[row["community_code"]],
                "police_beat": row.get("police_beat", ""),
                "boundary": row.get("boundary", ""),
            }
        )
    return planned


async def _write_grids(planned: list[dict]) -> int:
    for item in planned:
        await Grid(**item).save()
    return len(planned)


async def _check_staff(rows: list, report: ImportReport) -> list[dict]:
    regions = {r["code"]: r["id"] for r in await Region.select(Region.code, Region.id)}
    grids = {r["code"]: r["id"] for r in await Grid.select(Grid.code, Grid.id)}
    departments = {
        r["code"]: r["id"] for r in await Department.select(Department.code, Department.id)
    }
    existing = {r["username"] for r in await Staff.select(Staff.username)}
    seen: set[str] = set()
    planned = []
    for line, row in rows:
        if not _required(line, row, "staff", report):
            continue
        roles = [r.strip() for r in row["roles"].replace("|", ";").split(";") if r.strip()]
        problems = []
        if row["username"] in existing or row["username"] in seen:
            problems.append(RowError(line, "username", _("This user name is already in use.")))
        if not roles or any(r not in ROLES for r in roles):
            problems.append(
                RowError(line, "roles", _("Unknown role; use: %(roles)s", roles=", ".join(ROLES)))
            )
        if row["region_code"] not in regions:
            problems.append(RowError(line, "region_code", _("No region has this code.")))
        if row.get("password") and len(row["password"]) < 10:
            problems.append(RowError(line, "password", _("Use at least 10 characters.")))
        phone = ""
        if row.get("phone"):
            try:
                phone = validate_phone(row["phone"])
            except ValidationError as exc:
                problems.append(RowError(line, "phone", exc.message))
        department_id = None
        if row.get("department_code"):
            department_id = departments.get(row["department_code"])
            if department_id is None:
                problems.append(
                    RowError(line, "department_code", _("No department has this code."))
                )
        elif "handler" in roles:
            problems.append(
                RowError(
                    line,
                    "department_code",
                    _("A department handler must belong to a department: give its code."),
                )
            )
        grid_id = None
        if row.get("grid_code"):
            grid_id = grids.get(row["grid_code"])
            if grid_id is None:
                problems.append(RowError(line, "grid_code", _("No grid has this code.")))
            elif row.get("team_role") not in TEAM_ROLES or row.get("team_role") not in roles:
                problems.append(
                    RowError(
                        line,
                        "team_role",
                        _(
                            "Team role must be grid_worker or police, "
                            "and one of the person's roles."
                        ),
                    )
                )
        if problems:
            report.errors.extend(problems)
            continue
        seen.add(row["username"])
        planned.append(
            {
                "username": row["username"],
                "display_name": row["display_name"],
                "roles": roles,
                "region": regions[row["region_code"]],
                "phone": phone,
                "department": department_id,
                "password": row.get("password") or services.random_password(),
                "grid": grid_id,
                "team_role": row.get("team_role"),
            }
        )
    return planned


async def _write_staff(planned: list[dict]) -> int:
    for item in planned:
        staff = Staff(
            username=item["username"],
            display_name=item["display_name"],
            roles=item["roles"],
            region=item["region"],
            phone=item["phone"],
            department=item["department"],
            password_hash=hash_password(item["password"]),
        )
        await staff.save()
        if item["grid"]:
            await TeamMember(grid=item["grid"], staff=staff.id, role=item["team_role"]).save()
    return len(planned)
