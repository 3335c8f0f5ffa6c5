"""Early warning (三预): explainable rules run by the sweep; each says why and names its cases.

A warning is raised once per rule and subject (its fingerprint); staff acknowledge it or
dismiss it with a reason, and that is recorded in the audit log. Thresholds are data
(``WarningRule.params``) an administrator edits; the defaults are below.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from typing import Any

from mediation.cases.tables import Case, CaseEvent, Party
from mediation.clock import local_today, utc_now
from mediation.db import write_transaction
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
        row = stored.get(code)
        params = {**defaults, **((row or {}).get("params") or {})}
        out[code] = {"enabled": row["enabled"] if row else True, "params": params}
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


async def _raise(rule: str, subject: str, path: str, cases: list[int], args: dict, colour: str):
    fingerprint = f"{rule}:{subject}"[:128]
    if await EarlyWarning.exists().where(EarlyWarning.fingerprint == fingerprint):
        return False
    try:
        await EarlyWarning(
            rule=rule,
            subject=subject[:200],
            fingerprint=fingerprint,
            region_path=path,
            colour=colour,
            reason=rule,
            reason_args=args,
            case_ids=sorted(cases),
            raised_on=local_today(),
        ).save()
    except Exception as exc:  # two sweeps at once: the other one raised it
        if "unique" in str(exc).lower():
            return False
        raise
    await notify_warning(rule, path, sorted(cases), args)
    return True


async def warning_recipients(path: str, case_ids: list[int]) -> dict[int, int | None]:
    """Who is told of a warning, each with the case their notification points to: the centre
    staff of the warning's area (the nearest region, from the warning's own up to the county,
    that has centre staff) and the police officers on the teams of the cases' grids."""
    from mediation.grid.tables import Staff, TeamMember

    cases = await Case.select(Case.id, Case.grid).where(Case.id.is_in(case_ids or [0]))
    first = min((c["id"] for c in cases), default=None)
    recipients: dict[int, int | None] = {}
    for region in [path, *reversed(_ancestors(path))]:
        rows = await Staff.select(Staff.id, Staff.roles).where(
            Staff.region.path == region, Staff.active.eq(True)
        )
        centre = [r["id"] for r in rows if "centre_staff" in (r["roles"] or [])]
        if centre:
            recipients.update(dict.fromkeys(centre, first))
            break
    case_of_grid: dict[int, int] = {}
    for case in sorted(cases, key=lambda c: c["id"]):
        case_of_grid.setdefault(case["grid"], case["id"])
    if case_of_grid:
        for member in await TeamMember.select(TeamMember.staff, TeamMember.grid).where(
            TeamMember.grid.is_in(list(case_of_grid)),
            TeamMember.role == "police",
            TeamMember.staff.active.eq(True),
        ):
            recipients.setdefault(member["staff"], case_of_grid[member["grid"]])
    return recipients


async def notify_warning(rule: str, path: str, case_ids: list[int], args: dict) -> None:
    """Tell the right people a warning was raised (their notification inbox and its poll)."""
    from mediation.cases.tables import Notification

    recipients = await warning_recipients(path, case_ids)
    if not recipients:
        return
    numbers = [
        r["number"]
        for r in await Case.select(Case.number).where(Case.id.is_in(case_ids)).order_by(Case.id)
    ]
    message = _(
        "Early warning: %(rule)s. %(why)s Cases: %(numbers)s",
        rule=str(RULE_LABELS.get(rule, rule)),
        why=reason_text(rule, args),
        numbers="、".join(numbers),
    )
    await Notification.insert(
        *[
            Notification(recipient=staff, case=case, kind="warning", message=message[:300])
            for staff, case in recipients.items()
        ]
    )


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
    """One pass of every enabled rule; returns how many new warnings were raised."""
    rules = await rule_params()
    raised = 0
    today = local_today()
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
            raised += await _raise(code, subject, _common_path(paths[key]), cases, args, "yellow")
    raised += await _category_surge(rules["category_surge"], today)
    raised += await _red_without_contact(rules["red_no_contact"])
    for code, condition in (
        ("clause_breach", Case.status == "breached"),
        ("escalation_risk", Case.public_security_risk.eq(True) & Case.status.is_in(list(OPEN))),
    ):
        if not rules[code]["enabled"]:
            continue
        for r in await Case.select(Case.id, Case.region_path).where(condition):
            raised += await _raise(code, f"case:{r['id']}", r["region_path"], [r["id"]], {}, "red")
    return raised


async def _category_surge(rule: dict, today) -> int:
    if not rule["enabled"]:
        return 0
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
    raised = 0
    for key, n in now.items():
        average = before.get(key, 0) / 3
        if n < rule["params"]["min_cases"]:
            continue
        if n * 100 < average * rule["params"]["percent_of_trailing"]:
            continue
        path, category = key
        code = path.strip("/").split("/")[-1]
        region = await Region.select(Region.name).where(Region.code == code).first()
        cases = [
            c["id"]
            for c in await Case.select(Case.id).where(
                Case.region_path == path,
                Case.category == category,
                Case.registered_on >= month_start,
            )
        ]
        args = {
            "category": category,
            "community": region["name"] if region else code,
            "n": n,
            "average": f"{average:.1f}",
        }
        subject = f"{path}:{category}:{month_start.isoformat()}"
        raised += await _raise("category_surge", subject, path, cases, args, "yellow")
    return raised


# Events that are the system's or the registration's own, not a contact with the parties.
_NOT_CONTACT = ("registered", "linked", "police_notified", "overdue", "caught_up", "escalate")


async def _red_without_contact(rule: dict) -> int:
    if not rule["enabled"]:
        return 0
    hours = rule["params"]["hours"]
    cutoff = utc_now() - timedelta(hours=hours)
    reds = await Case.select(Case.id, Case.region_path, Case.registered_at).where(
        Case.colour == "red", Case.status.is_in(list(OPEN)), Case.registered_at <= cutoff
    )
    raised = 0
    for case in reds:
        deadline = case["registered_at"] + timedelta(hours=hours)
        contacted = await CaseEvent.exists().where(
            CaseEvent.case == case["id"],
            CaseEvent.at <= deadline,
            CaseEvent.action.not_in(list(_NOT_CONTACT)),
        )
        if not contacted:
            raised += await _raise(
                "red_no_contact",
                f"case:{case['id']}",
                case["region_path"],
                [case["id"]],
                {"hours": hours},
                "red",
            )
    return raised


async def warnings_for(user, status: str = "open", warning_id: int | None = None) -> list[dict]:
    """The warnings about the user's region subtree; the police see their grids' cases.

    With ``warning_id``, that one warning if the user may see it (any age), else nothing.
    """
    query = EarlyWarning.select(
        EarlyWarning.all_columns(), EarlyWarning.handled_by.display_name
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
    if warning_id is None:
        await _with_case_numbers(rows)
    return rows


async def _with_case_numbers(rows: list[dict]) -> None:
    """Each warning's cases as ``{"id", "number"}``, in one query for the page."""
    ids = {cid for row in rows for cid in row["case_ids"]}
    numbers = {
        r["id"]: r["number"]
        for r in await Case.select(Case.id, Case.number).where(Case.id.is_in(list(ids) or [0]))
    }
    for row in rows:
        row["cases"] = [
            {"id": cid, "number": numbers[cid]} for cid in row["case_ids"] if cid in numbers
        ]


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
