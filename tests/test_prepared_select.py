"""Selects whose SQL is built once (``db.PreparedSelect``) read what the select itself reads."""

from __future__ import annotations

import pytest

from mediation import db
from mediation.cases import agreements, followups, materials, queries, sessions
from mediation.cases.tables import Case

pytestmark = pytest.mark.anyio


def _prepared_by_case() -> list[db.PreparedSelect]:
    return [
        queries._CASE_ROW,
        queries._PARTIES,
        queries._EVENTS,
        queries._MEDIATORS,
        queries._suggestion_link(),
        sessions._SESSIONS_OF_CASE,
        agreements._AGREEMENTS_OF_CASE,
        followups._FOLLOW_UPS_OF_CASE,
        materials._MATERIALS_OF_CASE,
    ]


async def test_prepared_selects_read_what_the_select_reads_for_every_demo_case():
    case_rows = await Case.select(Case.id, Case.grid).order_by(Case.id)
    assert len(case_rows) > 20
    found = dict.fromkeys(range(len(_prepared_by_case())), 0)
    for row in case_rows:
        for n, prepared in enumerate(_prepared_by_case()):
            expected = await prepared._build(row["id"])
            assert await prepared(row["id"]) == expected, (n, row["id"])
            found[n] += bool(expected)
        assert await queries._TEAM(row["grid"]) == await queries._TEAM._build(row["grid"])
    # Each select found rows for some case (the comparison is not between empty lists only).
    assert all(found[n] for n in (0, 1, 2, 3, 5, 6, 7)), found
    assert await queries._PARTIES(-1) == []


async def test_a_prepared_select_runs_inside_the_transaction():
    """Inside a transaction it reads on the transaction's connection (its own writes)."""
    row = await Case.select(Case.id, Case.summary).order_by(Case.id).first()
    async with db.write_transaction():
        await Case.update({Case.summary: "事务内的摘要"}).where(Case.id == row["id"])
        inside = await queries._CASE_ROW(row["id"])
        await Case.update({Case.summary: row["summary"]}).where(Case.id == row["id"])
    assert inside[0]["summary"] == "事务内的摘要"
    assert (await queries._CASE_ROW(row["id"]))[0]["summary"] == row["summary"]


def test_every_value_must_appear_in_a_prepared_select():
    unused = db.PreparedSelect(
        lambda case_id, other: Case.select(Case.id).where(Case.id == case_id)
    )
    with pytest.raises(ValueError):
        unused._compile("sqlite", 2)


async def test_prepared_suggestion_reads_match_the_selects_for_every_demo_suggestion():
    from mediation.suggestions import filing, queries
    from mediation.suggestions.tables import Suggestion

    ids = [r["id"] for r in await Suggestion.select(Suggestion.id).order_by(Suggestion.id)]
    assert len(ids) > 10
    prepared = [queries._STAFF_ROW, queries._STAFF_STEPS, filing._PHOTOS_OF]
    found = [0] * len(prepared)
    for suggestion_id in ids:
        for n, select in enumerate(prepared):
            expected = await select._build(suggestion_id)
            assert await select(suggestion_id) == expected, (n, suggestion_id)
            found[n] += bool(expected)
    assert found[0] == len(ids) and found[1], found
