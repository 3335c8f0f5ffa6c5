"""Early-warning rules fire on what they describe and not on near misses; handling is audited.

Cases are registered with the clock frozen in 2032, far from the demo county's history.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from mediation.cases import services
from mediation.grid.tables import AuditEvent
from mediation.reports.tables import EarlyWarning
from mediation.reports.warnings import from_json, handle_warning, run_warning_rules
from tests.cases.conftest import deposit_case, grid_id, user
from tests.helpers import login, post_form

pytestmark = pytest.mark.anyio


def at(text: str):
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=UTC), tick=False)


async def _register(when: str, phone: str, colour: str = "green", **overrides) -> int:
    admin = await user("admin")
    parties = [
        services.PartyInput(role="applicant", name="赵玥", phone=phone),
        services.PartyInput(role="respondent", name="钱昇"),
    ]
    with at(when):
        return await services.register_case(
            deposit_case(await grid_id(), parties=parties, colour=colour, **overrides), admin
        )


async def _warnings_about(case_ids: set[int], rule: str) -> list[dict]:
    rows = await EarlyWarning.select().where(EarlyWarning.rule == rule)
    for row in rows:
        row["case_ids"] = from_json(row["case_ids"])
        row["reason_args"] = from_json(row["reason_args"])
    return [r for r in rows if set(r["case_ids"]) & case_ids]


async def test_the_same_phone_in_three_disputes_within_90_days_raises_a_warning(database):
    ids = {
        await _register("2032-03-01T02:00:00", "13700009991"),
        await _register("2032-04-01T02:00:00", "13700009991"),
        await _register("2032-05-20T02:00:00", "13700009991"),
    }
    with at("2032-05-21T02:00:00"):
        await run_warning_rules()
    found = await _warnings_about(ids, "repeat_party")
    assert len(found) == 1 and set(found[0]["case_ids"]) == ids
    assert found[0]["reason_args"]["n"] == 3


async def test_three_disputes_spread_over_more_than_90_days_raise_none(database):
    ids = {
        await _register("2032-01-01T02:00:00", "13700009992"),
        await _register("2032-03-01T02:00:00", "13700009992"),
        await _register("2032-04-05T02:00:00", "13700009992"),  # 95 days after the first
    }
    with at("2032-04-05T03:00:00"):
        await run_warning_rules()
    assert await _warnings_about(ids, "repeat_party") == []


async def test_a_red_case_untouched_for_24_hours_raises_a_warning_and_a_handled_one_does_not(
    database,
):
    untouched = await _register("2032-06-01T02:00:00", "13700009993", colour="red")
    handled = await _register("2032-06-01T02:00:00", "13700009994", colour="red")
    admin = await user("admin")
    with at("2032-06-01T20:00:00"):  # 18 hours later: accepted in time
        await services.transition_case(admin, handled, "accept", {})
    with at("2032-06-02T01:00:00"):  # 23 hours: not yet late
        await run_warning_rules()
    assert await _warnings_about({untouched}, "red_no_contact") == []
    with at("2032-06-02T03:00:00"):  # 25 hours
        await run_warning_rules()
    assert len(await _warnings_about({untouched}, "red_no_contact")) == 1
    assert await _warnings_about({handled}, "red_no_contact") == []


async def test_a_case_marked_at_risk_raises_a_warning_once(database):
    risky = await _register("2032-07-01T02:00:00", "13700009995", public_security_risk=True)
    calm = await _register("2032-07-01T02:00:00", "13700009996")
    with at("2032-07-01T03:00:00"):
        await run_warning_rules()
        await run_warning_rules()
    assert len(await _warnings_about({risky}, "escalation_risk")) == 1
    assert await _warnings_about({calm}, "escalation_risk") == []


async def test_dismissing_needs_a_reason_and_is_audited(client, database):
    risky = await _register("2032-08-01T02:00:00", "13700009997", public_security_risk=True)
    with at("2032-08-01T03:00:00"):
        await run_warning_rules()
    warning = (await _warnings_about({risky}, "escalation_risk"))[0]
    await login(client, "centre1")
    page = await client.get("/reports/warnings")
    assert f'id="warning-{warning["id"]}"' in page.text
    refused = await post_form(
        client, f"/reports/warnings/{warning['id']}", {"action": "dismiss", "note": " "}
    )
    assert refused.status_code == 422 and "排除预警须说明理由" in refused.text
    done = await post_form(
        client,
        f"/reports/warnings/{warning['id']}",
        {"action": "dismiss", "note": "双方已和解，经回访无激化迹象"},
    )
    assert done.status_code == 303
    row = (
        await EarlyWarning.select(EarlyWarning.status, EarlyWarning.handled_note)
        .where(EarlyWarning.id == warning["id"])
        .first()
    )
    assert row == {"status": "dismissed", "handled_note": "双方已和解，经回访无激化迹象"}
    audit = await AuditEvent.select(AuditEvent.action, AuditEvent.detail).where(
        AuditEvent.entity == "early_warning", AuditEvent.entity_id == str(warning["id"])
    )
    assert audit == [{"action": "warning_dismissed", "detail": "双方已和解，经回访无激化迹象"}]
    centre = await user("centre1")
    with pytest.raises(Exception, match="已处理|already handled"):
        await handle_warning(centre, warning["id"], "acknowledge", "")


async def test_an_administrator_changes_a_threshold_and_it_is_audited(client, database):
    await login(client, "admin")
    bad = await post_form(
        client,
        "/reports/warnings/rules",
        {"rule": "repeat_party", "enabled": "1", "min_cases": "zero", "window_days": "90"},
    )
    assert bad.status_code == 422 and 'value="zero"' in bad.text
    ok = await post_form(
        client,
        "/reports/warnings/rules",
        {"rule": "repeat_party", "enabled": "1", "min_cases": "4", "window_days": "60"},
    )
    assert ok.status_code == 303
    from mediation.reports.warnings import rule_params

    assert (await rule_params())["repeat_party"]["params"] == {"min_cases": 4, "window_days": 60}
    assert await AuditEvent.exists().where(AuditEvent.action == "warning_rule_changed")
    await post_form(
        client,
        "/reports/warnings/rules",
        {"rule": "repeat_party", "enabled": "1", "min_cases": "3", "window_days": "90"},
    )


# ---------------------------------------------------------------- more rules, and who is told


async def _case_at(when: str, grid: str = "330482001001-01", **overrides) -> int:
    admin = await user("admin")
    with at(when):
        return await services.register_case(
            deposit_case(await grid_id(grid), location="", **overrides), admin
        )


def _parties(address: str, phone: str) -> list:
    return [
        services.PartyInput(role="applicant", name="孙岚", phone=phone, address=address),
        services.PartyInput(role="respondent", name="周屹"),
    ]


async def test_the_same_address_in_three_disputes_raises_a_warning_and_two_do_not(database):
    three = {
        await _case_at(f"2036-0{m}-02T02:00:00", parties=_parties("当湖街道试验路一号三幢", p))
        for m, p in ((1, "13700008801"), (2, "13700008802"), (3, "13700008803"))
    }
    two = {
        await _case_at(f"2036-0{m}-03T02:00:00", parties=_parties("当湖街道试验路二号五幢", p))
        for m, p in ((1, "13700008804"), (2, "13700008805"))
    }
    with at("2036-03-03T03:00:00"):
        await run_warning_rules()
    found = await _warnings_about(three, "repeat_address")
    assert len(found) == 1 and set(found[0]["case_ids"]) == three
    assert found[0]["reason_args"]["address"] == "当湖街道试验路一号三幢"
    assert await _warnings_about(two, "repeat_address") == []


async def test_a_category_rising_well_above_its_trailing_level_raises_a_warning(database):
    """Four medical disputes in May against none before fire; four traffic disputes against
    three a month before (200% of the average is 6) and three medical ones elsewhere do not."""
    surge = {
        await _case_at(f"2036-05-{day:02d}T02:00:00", category="medical") for day in (4, 5, 6, 7)
    }
    for month in (2, 3, 4):
        for day in (4, 5, 6):
            await _case_at(f"2036-0{month}-{day:02d}T02:00:00", category="traffic")
    steady = {
        await _case_at(f"2036-05-{day:02d}T02:00:00", category="traffic") for day in (4, 5, 6, 7)
    }
    few = {
        await _case_at(f"2036-05-{day:02d}T02:00:00", "330482101001-01", category="medical")
        for day in (4, 5, 6)
    }
    with at("2036-05-20T02:00:00"):
        await run_warning_rules()
    found = await _warnings_about(surge, "category_surge")
    assert len(found) == 1 and surge <= set(found[0]["case_ids"])
    assert found[0]["reason_args"]["n"] == 4 and found[0]["reason_args"]["average"] == "0.0"
    assert await _warnings_about(steady, "category_surge") == []
    assert await _warnings_about(few, "category_surge") == []


async def test_a_clause_in_breach_raises_a_red_warning_and_a_performing_case_does_not(database):
    from mediation.cases.tables import Case

    breached = await _case_at("2036-06-01T02:00:00", parties=_parties("", "13700008811"))
    performing = await _case_at("2036-06-01T02:00:00", parties=_parties("", "13700008812"))
    await Case.update({Case.status: "breached"}).where(Case.id == breached)
    await Case.update({Case.status: "performing"}).where(Case.id == performing)
    with at("2036-06-02T02:00:00"):
        await run_warning_rules()
    found = await _warnings_about({breached}, "clause_breach")
    assert len(found) == 1 and found[0]["colour"] == "red"
    assert await _warnings_about({performing}, "clause_breach") == []


async def _police_grids(username: str) -> set[int]:
    from mediation.grid.tables import TeamMember

    staff = await user(username)
    rows = await TeamMember.select(TeamMember.grid).where(
        TeamMember.staff == staff.id, TeamMember.role == "police"
    )
    return {r["grid"] for r in rows}


async def test_the_police_officer_sees_and_is_told_of_his_grids_warnings_only(client, database):
    from mediation.cases.tables import Case, Notification
    from mediation.grid.tables import Grid

    mine = await grid_id("330482001001-01")
    police_grids = await _police_grids("police1")
    assert mine in police_grids
    # Another grid of 当湖街道 that police1 does not work.
    others = await Grid.select(Grid.id, Grid.code).where(Grid.code.like("330482001%"))
    others.sort(key=lambda g: (not g["code"].startswith("330482001001"), g["code"]))
    other = next(g for g in others if g["id"] not in police_grids)
    ours = await _case_at(
        "2036-07-01T02:00:00", parties=_parties("", "13700008821"), public_security_risk=True
    )
    theirs = await _case_at(
        "2036-07-01T02:00:00",
        other["code"],
        parties=_parties("", "13700008822"),
        public_security_risk=True,
    )
    with at("2036-07-01T03:00:00"):
        await run_warning_rules()
    numbers = {
        r["id"]: r["number"]
        for r in await Case.select(Case.id, Case.number).where(Case.id.is_in([ours, theirs]))
    }
    await login(client, "police1")
    page = await client.get("/reports/warnings")
    assert page.status_code == 200
    # Shown by case number, linked to the case.
    assert f'<a href="/cases/{ours}">{numbers[ours]}</a>' in page.text
    assert numbers[theirs] not in page.text
    police1, centre1 = await user("police1"), await user("centre1")
    told = await Notification.select(Notification.recipient, Notification.case).where(
        Notification.kind == "warning", Notification.case.is_in([ours, theirs])
    )
    assert {"recipient": police1.id, "case": ours} in told
    assert {"recipient": police1.id, "case": theirs} not in told
    # The town's centre staff hear of both; the message names the case by its number.
    assert {"recipient": centre1.id, "case": ours} in told
    assert {"recipient": centre1.id, "case": theirs} in told
    inbox = await client.get("/notifications")
    assert numbers[ours] in inbox.text and "预警" in inbox.text
