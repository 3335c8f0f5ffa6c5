"""Early warning (三预): explainable rules run by the sweep; each says why and names its cases.

A warning is raised once per rule and subject (its fingerprint); staff acknowledge it or
dismiss it with a reason, and that is recorded in the audit log. Thresholds are data
(``WarningRule.params``) an administrator edits; the defaults are below.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from piccolo.utils.encoding import dump_json

from mediation import db
from mediation.cases.tables import Case, CaseEvent, Party
from mediation.clock import local_today, utc_now
from mediation.db import fields_of, write_transaction
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext as _l
from mediation.reports.tables import EarlyWarning, WarningRule
from mediation.roles import AREA_ROLES

OPEN = ("registered", "accepted", "mediating", "settled", "performing", "breached")

DEFAULTS: dict[str, dict[str, int]] = {
    "repeat_party": {"min_cases": 3, "window_days": 90},
    "repeat_address": {"min_cases": 3, "window_days": 90},
    "category_surge": {"min_cases": 4, "percent_of_trailing": 200},
    "red_no_contact": {"hours": 24},
    "clause_breach": {},
    "escalation_risk": {},
}

RULE_LABELS = {
    "repeat_party": _l("Same party in several disputes"),
    "repeat_address": _l("Same address in several disputes"),
    "category_surge": _l("A category rising in a community"),
    "red_no_contact": _l("Red case without first contact"),
    "clause_breach": _l("Agreement clause in breach"),
    "escalation_risk": _l("Case at risk of escalation"),
}

PARAM_LABELS = {
    "min_cases": _l("At least this many cases"),
    "window_days": _l("Within this many days"),
    "percent_of_trailing": _l("Percent of the trailing three-month monthly average"),
    "hours": _l("Hours after registration"),
}

# Message ids of the reasons; shown translated with the stored arguments.
REASONS = {
    "repeat_party": _l("The same party appears in %(n)s disputes within %(days)s days."),
    "repeat_address": _l("The address %(address)s appears in %(n)s disputes within %(days)s days."),
    "category_surge": _l(
        "%(category)s disputes in %(community)s: %(n)s this month against a monthly average of "
        "%(average)s over the three months before."
    ),
    "red_no_contact": _l("Red case with no recorded contact %(hours)s hours after registration."),
    "clause_breach": _l("An agreement clause of this case is not being performed."),
    "escalation_risk": _l("The case is marked at risk of turning criminal or escalating."),
}


def from_json(value: Any) -> Any:
    """A JSON column's value (SQLite hands back the text)."""
    return json.loads(value) if isinstance(value, str) else value


def reason_text(rule: str, args: dict) -> str:
    from mediation.cases.categories import category_label

    args = dict(args)
    if "category" in args:
        args["category"] = category_label(args["category"])
    message = REASONS.get(rule)
    return str(message) % args if message else rule


async def rule_params() -> dict[str, dict[str, Any]]:
    """Each rule's thresholds (defaults overlaid with what an administrator stored) and
    whether it is on."""
    stored = {r["code"]: r for r in await WarningRule.select()}
    for row in stored.values():
        row["params"] = from_json(row["params"])
    out = {}
    for code, defaults in DEFAULTS.items():
        kept = stored.get(code)
        params = {**defaults, **((kept or {}).get("params") or {})}
        out[code] = {"enabled": kept["enabled"] if kept else True, "params": params}
    return out


async def save_rule(code: str, enabled: bool, values: dict[str, str], actor_id: int) -> dict:
    """Store an administrator's thresholds; returns errors by parameter (nothing saved then)."""
    from mediation.grid.tables import AuditEvent

    errors: dict[str, str] = {}
    params: dict[str, int] = {}
    for name in DEFAULTS[code]:
        raw = str(values.get(name, "")).strip()
        if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
            errors[name] = _("Enter a whole number from 1 to 10000.")
        else:
            params[name] = int(raw)
    if errors:
        return errors
    before = (await rule_params())[code]
    async with write_transaction():
        row = await WarningRule.select(WarningRule.id).where(WarningRule.code == code).first()
        if row:
            await WarningRule.update(
                {
                    WarningRule.enabled: enabled,
                    WarningRule.params: params,
                    WarningRule.updated_at: utc_now(),
                    WarningRule.updated_by: actor_id,
                }
            ).where(WarningRule.id == row["id"])
        else:
            await WarningRule(code=code, enabled=enabled, params=params, updated_by=actor_id).save()
        await AuditEvent(
            actor=actor_id,
            action="warning_rule_changed",
            entity="warning_rule",
            entity_id=code,
            before=before,
            after={"enabled": enabled, "params": params},
        ).save()
    return {}


@dataclass
class Candidate:
    """A warning a rule would raise, before it is known to be new."""

    rule: str
    subject: str
    path: str
    cases: list[int]
    args: dict
    colour: str
    # red_no_contact: raised only if the case had no contact by this moment.
    contact_by: datetime | None = None

    @property
    def fingerprint(self) -> str:
        return f"{self.rule}:{self.subject}"[:128]


def _chunk_size() -> int:
    # SQLite allows fewer bound values per statement than PostgreSQL.
    return 5000 if db.is_postgres() else 400


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _existing_fingerprints(fingerprints: set[str]) -> set[str]:
    """Which of these fingerprints were raised before (one query; on SQLite one per chunk)."""
    if not fingerprints:
        return set()
    if db.is_postgres():
        rows = await EarlyWarning.raw(
            'SELECT "fingerprint" FROM "early_warning" WHERE "fingerprint" = ANY({}::text[])',
            sorted(fingerprints),
        )
        return {r["fingerprint"] for r in rows}
    found: set[str] = set()
    for part in _chunks(sorted(fingerprints), _chunk_size()):
        rows = await EarlyWarning.select(EarlyWarning.fingerprint).where(
            EarlyWarning.fingerprint.is_in(list(part))
        )
        found.update(r["fingerprint"] for r in rows)
    return found


async def _contacted(candidates: list[Candidate]) -> set[int]:
    """The cases, of these red_no_contact candidates, with a contact recorded in time (one
    query; on SQLite one per chunk)."""
    deadlines = {c.cases[0]: c.contact_by for c in candidates if c.contact_by is not None}
    if not deadlines:
        return set()
    if db.is_postgres():
        rows = await CaseEvent.raw(
            'SELECT DISTINCT e."case" FROM "case_event" e '
            'JOIN unnest({}::int[], {}::timestamptz[]) AS u(c, d) ON e."case" = u.c '
            'WHERE e."at" <= u.d AND e."action" <> ALL({}::text[])',
            list(deadlines),
            list(deadlines.values()),
            list(_NOT_CONTACT),
        )
        return {r["case"] for r in rows}
    contacted: set[int] = set()
    for part in _chunks(sorted(deadlines), _chunk_size()):
        latest = max(deadlines[case_id] for case_id in part)
        rows = await CaseEvent.select(CaseEvent.case, CaseEvent.at).where(
            CaseEvent.case.is_in(list(part)),
            CaseEvent.at <= latest,
            CaseEvent.action.not_in(list(_NOT_CONTACT)),
        )
        for r in rows:
            if r["at"] <= deadlines[r["case"]]:
                contacted.add(r["case"])
    return contacted


async def _raise_all(candidates: list[Candidate]) -> int:
    """Raise the candidates not raised before, each once, in a few statements; tell the right
    people. Returns how many were raised."""
    existing = await _existing_fingerprints({c.fingerprint for c in candidates})
    contacted = await _contacted(
        [c for c in candidates if c.contact_by is not None and c.fingerprint not in existing]
    )
    seen = set(existing)
    fresh: list[Candidate] = []
    for candidate in candidates:
        if candidate.fingerprint in seen:
            continue
        if candidate.contact_by is not None and candidate.cases[0] in contacted:
            continue
        seen.add(candidate.fingerprint)
        fresh.append(candidate)
    raised = 0
    for part in _chunks(fresh, _chunk_size()):
        async with write_transaction():
            inserted = await _insert_warnings(list(part))
            # Two sweeps at once: what the other one raised first is left to it.
            new = [c for c in part if c.fingerprint in inserted]
            await _notify_warnings(new)
        raised += len(new)
    return raised


async def _insert_warnings(candidates: list[Candidate]) -> set[str]:
    """Insert the warnings (skipping a fingerprint raised meanwhile); the inserted
    fingerprints."""
    if not candidates:
        return set()
    today = local_today()
    if db.is_postgres():
        rows = await EarlyWarning.raw(
            'INSERT INTO "early_warning" ("rule", "subject", "fingerprint", "region_path", '
            '"colour", "reason", "reason_args", "case_ids", "raised_at", "raised_on", "status", '
            '"handled_by", "handled_at", "handled_note") '
            "SELECT r, s, f, p, c, r, a::json, i::json, {}::timestamptz, {}::date, 'open', "
            "NULL, NULL, '' "
            "FROM unnest({}::text[], {}::text[], {}::text[], {}::text[], {}::text[], "
            "{}::text[], {}::text[]) AS u(r, s, f, p, c, a, i) "
            'ON CONFLICT ("fingerprint") DO NOTHING RETURNING "fingerprint"',
            utc_now(),
            today,
            [c.rule for c in candidates],
            [c.subject[:200] for c in candidates],
            [c.fingerprint for c in candidates],
            [c.path for c in candidates],
            [c.colour for c in candidates],
            [dump_json(c.args) for c in candidates],
            [dump_json(sorted(c.cases)) for c in candidates],
        )
        return {r["fingerprint"] for r in rows}
    inserted: set[str] = set()
    for part in _chunks(candidates, 40):
        rows = (
            await EarlyWarning.insert(
                *[
                    EarlyWarning(
                        rule=c.rule,
                        subject=c.subject[:200],
                        fingerprint=c.fingerprint,
                        region_path=c.path,
                        colour=c.colour,
                        reason=c.rule,
                        reason_args=c.args,
                        case_ids=sorted(c.cases),
                        raised_on=today,
                    )
                    for c in part
                ]
            )
            .on_conflict(target=EarlyWarning.fingerprint, action="DO NOTHING")
            .returning(EarlyWarning.fingerprint)
        )
        inserted.update(r["fingerprint"] for r in rows)
    return inserted


async def _notify_warnings(candidates: list[Candidate]) -> None:
    """Tell the right people of the new warnings (their notification inbox and its poll): the
    centre staff of each warning's area (the nearest region, from the warning's own up to the
    county, that has centre staff) and the police officers on the teams of its cases' grids;
    each notification points to a case of the warning. A few queries for all of them."""
    from mediation.cases.events import notify_many
    from mediation.grid.tables import Staff, TeamMember

    if not candidates:
        return
    case_ids = sorted({cid for c in candidates for cid in c.cases})
    cases: dict[int, dict] = {}
    if db.is_postgres():
        rows = await Case.raw(
            'SELECT "id", "grid", "number" FROM "case" WHERE "id" = ANY({}::int[])', case_ids
        )
        cases = {r["id"]: r for r in rows}
    else:
        for part in _chunks(case_ids, _chunk_size()):
            for r in await Case.select(Case.id, Case.grid, Case.number).where(
                Case.id.is_in(list(part))
            ):
                cases[r["id"]] = r
    centre: dict[str, list[int]] = defaultdict(list)
    for r in (
        await Staff.select(Staff.id, Staff.roles, Staff.region.path)
        .where(Staff.active.eq(True))
        .order_by(Staff.id)
    ):
        if "centre_staff" in (r["roles"] or []) and r["region.path"]:
            centre[r["region.path"]].append(r["id"])
    # The police on each grid's team: (team membership id, staff id).
    police: dict[int, list[tuple[int, int]]] = defaultdict(list)
    grids = sorted({case["grid"] for case in cases.values()})
    for part in _chunks(grids, _chunk_size()):
        for member in await TeamMember.select(
            TeamMember.id, TeamMember.staff, TeamMember.grid
        ).where(
            TeamMember.grid.is_in(list(part)),
            TeamMember.role == "police",
            TeamMember.staff._.active.eq(True),
        ):
            police[member["grid"]].append((member["id"], member["staff"]))
    messages: list[tuple[list[int], int | None, str, str]] = []
    for candidate in candidates:
        found = sorted(cid for cid in set(candidate.cases) if cid in cases)
        recipients: dict[int, int | None] = {}
        for region in [candidate.path, *reversed(_ancestors(candidate.path))]:
            if centre.get(region):
                recipients.update(dict.fromkeys(centre[region], found[0] if found else None))
                break
        case_of_grid: dict[int, int] = {}
        for cid in found:
            case_of_grid.setdefault(cases[cid]["grid"], cid)
        # An officer on several of these grids: the case of the first membership.
        memberships = sorted(
            (member, staff, grid) for grid in case_of_grid for member, staff in police[grid]
        )
        for _member, staff, grid in memberships:
            recipients.setdefault(staff, case_of_grid[grid])
        if not recipients:
            continue
        message = _(
            "Early warning: %(rule)s. %(why)s Cases: %(numbers)s",
            rule=str(RULE_LABELS.get(candidate.rule, candidate.rule)),
            why=reason_text(candidate.rule, candidate.args),
            numbers="、".join(cases[cid]["number"] for cid in found),
        )
        messages.extend(([staff], cid, "warning", message) for staff, cid in recipients.items())
    await notify_many(messages)


def _common_path(paths: list[str]) -> str:
    """The deepest region both (all) cases lie in: who should see the warning."""
    parts = [p.strip("/").split("/") for p in paths]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "/" + "/".join(common) + "/" if common else "/"


async def run_warning_rules() -> int:
    """One pass of every enabled rule; returns how many new warnings were raised.

    Set-based: each rule reads what it needs in one query (or a few, in chunks), the
    candidates are checked against the warnings raised before in one query per chunk, and the
    new warnings and their notifications are inserted a chunk at a time.
    """
    rules = await rule_params()
    today = local_today()
    candidates: list[Candidate] = []
    for code in ("repeat_party", "repeat_address"):
        rule = rules[code]
        if not rule["enabled"]:
            continue
        since = today - timedelta(days=rule["params"]["window_days"])
        rows = await Party.select(
            Party.case,
            Party.id_number_digest,
            Party.phone,
            Party.address,
            Party.case.region_path,
            Party.case.location,
        ).where(Party.case.registered_on >= since)
        groups: dict[str, set[int]] = defaultdict(set)
        paths: dict[str, list[str]] = defaultdict(list)
        for r in rows:
            keys = []
            if code == "repeat_party":
                if r["id_number_digest"]:
                    keys.append("id:" + r["id_number_digest"])
                if r["phone"]:
                    keys.append("phone:" + r["phone"])
            else:
                for address in (r["address"], r["case.location"]):
                    if address and len(address.strip()) >= 6:
                        keys.append("addr:" + address.strip())
            for key in keys:
                groups[key].add(r["case"])
                paths[key].append(r["case.region_path"])
        for key, cases in groups.items():
            if len(cases) < rule["params"]["min_cases"]:
                continue
            # Subject: the group's latest case set, so a new case later raises a new warning.
            subject = f"{key}:{max(cases)}"
            args = {"n": len(cases), "days": rule["params"]["window_days"]}
            if code == "repeat_address":
                args["address"] = key[5:]
            candidates.append(
                Candidate(code, subject, _common_path(paths[key]), sorted(cases), args, "yellow")
            )
    candidates += await _category_surge(rules["category_surge"], today)
    candidates += await _red_without_contact(rules["red_no_contact"])
    for code, condition in (
        ("clause_breach", Case.status == "breached"),
        ("escalation_risk", Case.public_security_risk.eq(True) & Case.status.is_in(list(OPEN))),
    ):
        if not rules[code]["enabled"]:
            continue
        for r in await Case.select(Case.id, Case.region_path).where(condition):
            candidates.append(
                Candidate(code, f"case:{r['id']}", r["region_path"], [r["id"]], {}, "red")
            )
    return await _raise_all(candidates)


async def _category_surge(rule: dict, today) -> list[Candidate]:
    if not rule["enabled"]:
        return []
    from mediation.grid.tables import Region
    from mediation.reports.tables import CaseStat

    month_start = today.replace(day=1)
    trailing_start = (month_start - timedelta(days=85)).replace(day=1)
    rows = await CaseStat.select(
        CaseStat.region_path, CaseStat.category, CaseStat.day, CaseStat.n
    ).where(CaseStat.measure == "received", CaseStat.day >= trailing_start, CaseStat.day <= today)
    now: dict[tuple, int] = defaultdict(int)
    before: dict[tuple, int] = defaultdict(int)
    for r in rows:
        key = (r["region_path"], r["category"])
        if r["day"] >= month_start:
            now[key] += r["n"]
        else:
            before[key] += r["n"]
    surging: list[tuple[tuple[str, str], int, float]] = []
    for key, n in now.items():
        average = before.get(key, 0) / 3
        if n < rule["params"]["min_cases"]:
            continue
        if n * 100 < average * rule["params"]["percent_of_trailing"]:
            continue
        surging.append((key, n, average))
    if not surging:
        return []
    codes = sorted({path.strip("/").split("/")[-1] for (path, _category), _n, _a in surging})
    names = {
        r["code"]: r["name"]
        for r in await Region.select(Region.code, Region.name).where(Region.code.is_in(codes))
    }
    # This month's cases of every surging (area, category), in one query.
    wanted = {key for key, _n, _average in surging}
    cases_of: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in await Case.select(Case.id, Case.region_path, Case.category).where(
        Case.region_path.is_in(sorted({path for path, _category in wanted})),
        Case.category.is_in(sorted({category for _path, category in wanted})),
        Case.registered_on >= month_start,
    ):
        key = (r["region_path"], r["category"])
        if key in wanted:
            cases_of[key].append(r["id"])
    candidates = []
    for key, n, average in surging:
        path, category = key
        code = path.strip("/").split("/")[-1]
        args = {
            "category": category,
            "community": names.get(code, code),
            "n": n,
            "average": f"{average:.1f}",
        }
        subject = f"{path}:{category}:{month_start.isoformat()}"
        candidates.append(
            Candidate("category_surge", subject, path, sorted(cases_of[key]), args, "yellow")
        )
    return candidates


# Events that are the system's or the registration's own, not a contact with the parties.
_NOT_CONTACT = ("registered", "linked", "police_notified", "overdue", "caught_up", "escalate")


async def _red_without_contact(rule: dict) -> list[Candidate]:
    """Every open red case past the hours; whether it had a contact in time is checked (in a
    few queries) only for those not warned about before."""
    if not rule["enabled"]:
        return []
    hours = rule["params"]["hours"]
    cutoff = utc_now() - timedelta(hours=hours)
    reds = await Case.select(Case.id, Case.region_path, Case.registered_at).where(
        Case.colour == "red", Case.status.is_in(list(OPEN)), Case.registered_at <= cutoff
    )
    return [
        Candidate(
            "red_no_contact",
            f"case:{case['id']}",
            case["region_path"],
            [case["id"]],
            {"hours": hours},
            "red",
            contact_by=case["registered_at"] + timedelta(hours=hours),
        )
        for case in reds
    ]


@dataclass(frozen=True, slots=True)
class WarnedCase:
    id: int
    number: str


@dataclass(frozen=True, slots=True)
class WarningRow:
    """An early warning as its page shows it."""

    # The warning's own columns (see ``tables.EarlyWarning``).
    id: int
    rule: str
    subject: str
    fingerprint: str
    region_path: str
    colour: str
    reason: str
    reason_args: dict
    case_ids: list[int]
    raised_at: datetime
    raised_on: date
    status: str
    handled_by: int | None
    handled_at: datetime | None
    handled_note: str
    handled_by_name: str | None
    cases: list[WarnedCase]  # its cases with their numbers (empty when one warning is asked for)

    @property
    def label(self) -> str:
        return str(RULE_LABELS.get(self.rule, self.rule))

    @property
    def why(self) -> str:
        return reason_text(self.rule, self.reason_args)


async def warnings_for(
    user, status: str = "open", warning_id: int | None = None
) -> list[WarningRow]:
    """The warnings about the user's region subtree; the police see their grids' cases.

    With ``warning_id``, that one warning if the user may see it (any age), else nothing.
    """
    query = EarlyWarning.select(
        *EarlyWarning.all_columns(), EarlyWarning.handled_by._.display_name
    ).where(EarlyWarning.status == status)
    if user.region_path:
        # A warning about several areas lies at their common region: the people of that
        # region, and of each case's own area, see it.
        query = query.where(
            EarlyWarning.region_path.like(user.region_path + "%")
            | EarlyWarning.region_path.is_in(_ancestors(user.region_path))
        )
    if warning_id is not None:
        rows = await query.where(EarlyWarning.id == warning_id)
    else:
        rows = await query.order_by(EarlyWarning.raised_at, ascending=False).limit(200)
    for row in rows:
        row["case_ids"] = from_json(row["case_ids"]) or []
        row["reason_args"] = from_json(row["reason_args"]) or {}
    if user.has_role("police") and not user.has_role(*AREA_ROLES):
        theirs = await _police_cases(user, {cid for r in rows for cid in r["case_ids"]})
        rows = [r for r in rows if theirs.intersection(r["case_ids"])]
    numbers = await _case_numbers(rows) if warning_id is None else {}
    return [
        WarningRow(
            **fields_of(row, {"handled_by.display_name": "handled_by_name"}),
            cases=[WarnedCase(cid, numbers[cid]) for cid in row["case_ids"] if cid in numbers],
        )
        for row in rows
    ]


async def _case_numbers(rows: list[dict]) -> dict[int, str]:
    """The numbers of the warnings' cases, in one query for the page."""
    ids = {cid for row in rows for cid in row["case_ids"]}
    return {
        r["id"]: r["number"]
        for r in await Case.select(Case.id, Case.number).where(Case.id.is_in(list(ids) or [0]))
    }


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))] + ["/"]


async def _police_cases(user, case_ids: set[int]) -> set[int]:
    """Which of these cases lie in the grids the officer serves (two queries for a page)."""
    from mediation.grid.tables import TeamMember

    grids = [
        r["grid"]
        for r in await TeamMember.select(TeamMember.grid).where(
            TeamMember.staff == user.id, TeamMember.role == "police"
        )
    ]
    if not grids or not case_ids:
        return set()
    rows = await Case.select(Case.id).where(Case.id.is_in(list(case_ids)), Case.grid.is_in(grids))
    return {r["id"] for r in rows}


class WarningError(Exception):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


async def handle_warning(user, warning_id: int, action: str, note: str) -> None:
    """Acknowledge (taken in hand) or dismiss (with a reason) a warning; audited."""
    from mediation.grid.tables import AuditEvent

    if action not in ("acknowledge", "dismiss"):
        raise WarningError(_("Choose from the list."), "action")
    note = note.strip()[:1000]
    if action == "dismiss" and not note:
        raise WarningError(_("Give a reason for dismissing the warning."), "note")
    if not await warnings_for(user, warning_id=warning_id):
        raise WarningError(_("This warning does not exist or was already handled."))
    status = "acknowledged" if action == "acknowledge" else "dismissed"
    async with write_transaction():
        rows = (
            await EarlyWarning.update(
                {
                    EarlyWarning.status: status,
                    EarlyWarning.handled_by: user.id,
                    EarlyWarning.handled_at: utc_now(),
                    EarlyWarning.handled_note: note,
                }
            )
            .where(EarlyWarning.id == warning_id, EarlyWarning.status == "open")
            .returning(EarlyWarning.id)
        )
        if not rows:
            raise WarningError(_("This warning does not exist or was already handled."))
        await AuditEvent(
            actor=user.id,
            action=f"warning_{status}",
            entity="early_warning",
            entity_id=str(warning_id),
            before={"status": "open"},
            after={"status": status},
            detail=note,
        ).save()
