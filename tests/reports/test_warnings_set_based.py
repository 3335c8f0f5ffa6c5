"""The set-based early-warning pass raises exactly what the per-warning pass did.

``per_warning_rules`` below is the pass as it was (each candidate checked with its own query,
each warning inserted and its people looked up and told one by one). On a hand-made set of
cases covering every rule (and a warning raised before), the old pass runs, its warnings and
notifications are read and removed, then the real pass runs on the same database: both must
have raised the same warnings and told the same people the same thing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest

from mediation.cases import services
from mediation.cases.tables import Case, CaseEvent, Notification, Party
from mediation.clock import local_today, utc_now
from mediation.i18n import gettext as _
from mediation.reports.tables import EarlyWarning
from mediation.reports.warnings import (
    _NOT_CONTACT,
    OPEN,
    RULE_LABELS,
    _ancestors,
    _common_path,
    from_json,
    reason_text,
    rule_params,
    run_warning_rules,
)
from tests.cases.conftest import user
from tests.reports.test_warnings import _case_at, _parties, _register, at

pytestmark = pytest.mark.anyio


# ---------------------------------------------------------------- the pass as it was


async def _old_raise(rule: str, subject: str, path: str, cases: list[int], args: dict, colour):
    fingerprint = f"{rule}:{subject}"[:128]
    if await EarlyWarning.exists().where(EarlyWarning.fingerprint == fingerprint):
        return False
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
    await _old_notify(rule, path, sorted(cases), args)
    return True


async def _old_recipients(path: str, case_ids: list[int]) -> dict[int, int | None]:
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
        for member in (
            await TeamMember.select(TeamMember.staff, TeamMember.grid)
            .where(
                TeamMember.grid.is_in(list(case_of_grid)),
                TeamMember.role == "police",
                TeamMember.staff.active.eq(True),
            )
            .order_by(TeamMember.id)
        ):
            recipients.setdefault(member["staff"], case_of_grid[member["grid"]])
    return recipients


async def _old_notify(rule: str, path: str, case_ids: list[int], args: dict) -> None:
    recipients = await _old_recipients(path, case_ids)
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


async def per_warning_rules() -> int:
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
            subject = f"{key}:{max(cases)}"
            args = {"n": len(cases), "days": rule["params"]["window_days"]}
            if code == "repeat_address":
                args["address"] = key[5:]
            raised += await _old_raise(
                code, subject, _common_path(paths[key]), list(cases), args, "yellow"
            )
    raised += await _old_category_surge(rules["category_surge"], today)
    raised += await _old_red_without_contact(rules["red_no_contact"])
    for code, condition in (
        ("clause_breach", Case.status == "breached"),
        ("escalation_risk", Case.public_security_risk.eq(True) & Case.status.is_in(list(OPEN))),
    ):
        if not rules[code]["enabled"]:
            continue
        for r in await Case.select(Case.id, Case.region_path).where(condition):
            raised += await _old_raise(
                code, f"case:{r['id']}", r["region_path"], [r["id"]], {}, "red"
            )
    return raised


async def _old_category_surge(rule: dict, today) -> int:
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
        raised += await _old_raise("category_surge", subject, path, cases, args, "yellow")
    return raised


async def _old_red_without_contact(rule: dict) -> int:
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
            raised += await _old_raise(
                "red_no_contact",
                f"case:{case['id']}",
                case["region_path"],
                [case["id"]],
                {"hours": hours},
                "red",
            )
    return raised


# ---------------------------------------------------------------- the comparison


async def _raised_after(warning_mark: int, notification_mark: int) -> tuple[list, list]:
    """What a pass raised and told (without ids and clock times), then removed again."""
    warnings = [
        (
            r["fingerprint"],
            r["rule"],
            r["subject"],
            r["region_path"],
            r["colour"],
            r["reason"],
            from_json(r["reason_args"]),
            from_json(r["case_ids"]),
            r["raised_on"],
            r["status"],
        )
        for r in await EarlyWarning.select()
        .where(EarlyWarning.id > warning_mark)
        .order_by(EarlyWarning.id)
    ]
    told = sorted(
        (r["recipient"], r["case"] or 0, r["kind"], r["message"], r["read"])
        for r in await Notification.select().where(Notification.id > notification_mark)
    )
    await Notification.delete().where(Notification.id > notification_mark)
    await EarlyWarning.delete().where(EarlyWarning.id > warning_mark)
    return warnings, told


async def _marks() -> tuple[int, int]:
    last_warning = (
        await EarlyWarning.select(EarlyWarning.id)
        .order_by(EarlyWarning.id, ascending=False)
        .first()
    )
    last_notification = (
        await Notification.select(Notification.id)
        .order_by(Notification.id, ascending=False)
        .first()
    )
    return (last_warning or {"id": 0})["id"], (last_notification or {"id": 0})["id"]


async def test_the_set_based_pass_raises_and_tells_exactly_what_the_per_warning_pass_did(
    database,
):
    admin = await user("admin")
    ids: dict[str, set[int]] = defaultdict(set)
    # A case at risk warned about before the rest arrive.
    warned_before = await _case_at("2038-02-01T02:00:00", public_security_risk=True)
    with at("2038-02-01T03:00:00"):
        await run_warning_rules()
    # The same phone in three disputes; the same address in three.
    for day in (2, 9, 16):
        ids["repeat_party"].add(await _register(f"2038-03-{day:02d}T02:00:00", "13700007701"))
        ids["repeat_address"].add(
            await _case_at(
                f"2038-03-{day:02d}T03:00:00",
                parties=_parties("当湖街道比对路七号二幢", f"137000077{day:02d}"),
            )
        )
    # Four medical disputes this month in a grid that had none before.
    for day in (2, 3, 4, 5):
        ids["category_surge"].add(
            await _case_at(f"2038-04-{day:02d}T02:00:00", "330482101001-01", category="medical")
        )
    # Red cases: untouched; accepted in time; accepted too late.
    untouched = await _register("2038-04-10T02:00:00", "13700007731", colour="red")
    in_time = await _register("2038-04-10T02:00:00", "13700007732", colour="red")
    too_late = await _register("2038-04-10T02:00:00", "13700007733", colour="red")
    with at("2038-04-10T20:00:00"):
        await services.transition_case(admin, in_time, "accept", {})
    with at("2038-04-11T04:00:00"):
        await services.transition_case(admin, too_late, "accept", {})
    ids["red_no_contact"] |= {untouched, too_late}
    # At risk, one of them warned about before (above); a case in breach.
    risky = await _case_at("2038-04-12T02:00:00", public_security_risk=True)
    ids["escalation_risk"].add(risky)
    breached = await _case_at("2038-04-12T02:00:00", parties=_parties("", "13700007741"))
    await Case.update({Case.status: "breached"}).where(Case.id == breached)
    from mediation.reports import rollups

    await rollups.rebuild_rollups()
    ids["clause_breach"].add(breached)

    warning_mark, notification_mark = await _marks()
    with at("2038-04-12T06:00:00"):
        old_count = await per_warning_rules()
    old_warnings, old_told = await _raised_after(warning_mark, notification_mark)
    with at("2038-04-12T06:00:00"):
        new_count = await run_warning_rules()
    new_warnings = (
        await EarlyWarning.select(EarlyWarning.rule, EarlyWarning.case_ids)
        .where(EarlyWarning.id > warning_mark)
        .order_by(EarlyWarning.id)
    )
    new_warnings_full, new_told = await _raised_after(warning_mark, notification_mark)
    # Leave the warnings raised, as a real pass would.
    with at("2038-04-12T06:00:00"):
        assert await run_warning_rules() == new_count

    assert new_count == old_count == len(old_warnings)
    assert new_warnings_full == old_warnings
    assert new_told == old_told

    # Not vacuous: every rule fired on its hand-made cases and people were told.
    def raised(rule: str) -> set[int]:
        return {c for w in new_warnings if w["rule"] == rule for c in from_json(w["case_ids"])}

    for rule, cases in ids.items():
        assert cases <= raised(rule), rule
    assert in_time not in raised("red_no_contact")
    assert warned_before not in raised("escalation_risk")
    assert {recipient for recipient, *_rest in new_told}
