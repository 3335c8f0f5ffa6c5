"""Prevention figures and judicial confirmation recorded on a concluded case."""

from __future__ import annotations

import json

import pytest

from mediation.cases.tables import Case, CaseEvent
from mediation.reports.tables import CaseStat
from tests.helpers import login, post_form, text_of

pytestmark = pytest.mark.anyio

DONGHU_PATH = "/330482/330482001/330482001001/"


async def _concluded(outcome: str) -> dict:
    return (
        await Case.select(Case.id, Case.version, Case.concluded_on, Case.grid)
        .where(
            Case.outcome == outcome,
            Case.region_path == DONGHU_PATH,
            Case.prevented_criminal_persons == 0,
            Case.judicially_confirmed.eq(False),
        )
        .order_by(Case.id)
        .first()
    )


async def _stat(measure: str, day, grid: int) -> tuple[int, int]:
    rows = await CaseStat.select(CaseStat.n, CaseStat.persons).where(
        CaseStat.measure == measure, CaseStat.day == day, CaseStat.grid == grid
    )
    return sum(r["n"] for r in rows), sum(r["persons"] for r in rows)


async def test_recording_figures_changes_the_case_its_timeline_and_the_sums(client):
    case = await _concluded("settled")
    before = await _stat("prevent_criminal", case["concluded_on"], case["grid"])
    confirmed_before = await _stat("confirmed", case["concluded_on"], case["grid"])
    await login(client, "centre1")
    response = await post_form(
        client,
        f"/reports/cases/{case['id']}/figures",
        {
            "prevented_criminal_persons": "4",
            "judicially_confirmed": "1",
            "version": case["version"],
        },
    )
    assert response.status_code == 303
    row = (
        await Case.select(Case.prevented_criminal_persons, Case.judicially_confirmed)
        .where(Case.id == case["id"])
        .first()
    )
    assert row == {"prevented_criminal_persons": 4, "judicially_confirmed": True}
    event = (
        await CaseEvent.select(CaseEvent.changes)
        .where(CaseEvent.case == case["id"], CaseEvent.action == "figures_recorded")
        .first()
    )
    changes = event["changes"]
    changes = json.loads(changes) if isinstance(changes, str) else changes
    assert changes["prevented_criminal_persons"] == [0, 4]
    after = await _stat("prevent_criminal", case["concluded_on"], case["grid"])
    assert after == (before[0] + 1, before[1] + 4)
    confirmed = await _stat("confirmed", case["concluded_on"], case["grid"])
    assert confirmed[0] == confirmed_before[0] + 1
    page = await client.get(f"/cases/{case['id']}")
    assert "已录入统计数据" in text_of(page.text) or "Statistics figures recorded" in page.text


async def test_a_head_count_that_is_not_a_number_is_refused_beside_the_field(client):
    case = await _concluded("settled")
    await login(client, "centre1")
    response = await post_form(
        client,
        f"/reports/cases/{case['id']}/figures",
        {"prevented_petition_persons": "十二", "prevented_suicide": "1"},
    )
    assert response.status_code == 422
    assert 'id="prevented_petition_persons-error"' in response.text
    assert 'value="十二"' in response.text
    row = await Case.select(Case.prevented_suicide).where(Case.id == case["id"]).first()
    assert row["prevented_suicide"] is False


async def test_a_terminated_case_cannot_have_a_confirmed_agreement(client):
    case = await _concluded("terminated")
    await login(client, "centre1")
    response = await post_form(
        client, f"/reports/cases/{case['id']}/figures", {"judicially_confirmed": "1"}
    )
    assert response.status_code == 422
    assert "只有调解协议才能申请司法确认" in response.text
