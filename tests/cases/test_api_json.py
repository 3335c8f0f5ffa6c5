"""The case API's JSON keeps its fields, their order and their text form.

Clients parse these documents; the services behind them return typed results, and this checks
that what goes out is still exactly the documented shape, each value read back from the tables.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from mediation.cases.tables import Case, CaseEvent, CaseMediator, Party
from mediation.clock import to_local
from mediation.grid.tables import Grid, Region
from mediation.masking import mask_phone
from mediation.suggestions.tables import Suggestion
from tests.helpers import login

pytestmark = pytest.mark.anyio

CASE_FIELDS = [
    "id",
    "number",
    "category",
    "summary",
    "facts",
    "status",
    "level",
    "colour",
    "source",
    "grid",
    "grid_name",
    "community",
    "location",
    "amount",
    "public_security_risk",
    "parties_consent",
    "overdue",
    "registered_on",
    "registered_at",
    "registered_by",
    "linked_case",
    "linked_case_number",
    "version",
    "actions",
    "parties",
    "clocks",
    "events",
    "mediators",
    "suggestion",
]
PARTY_FIELDS = [
    "id",
    "role",
    "kind",
    "name",
    "id_number_masked",
    "phone_masked",
    "address",
    "representative",
    "refuses_mediation",
]
CLOCK_FIELDS = [
    "name",
    "label",
    "due",
    "overdue_days",
    "is_overdue",
    "remaining_days",
    "done",
    "estimated_years",
]
EVENT_FIELDS = ["action", "at", "actor", "from_status", "to_status", "note"]
MEDIATOR_FIELDS = ["id", "mediator_id", "name", "organisation", "active", "ended_reason"]
LIST_ITEM_FIELDS = [
    "id",
    "number",
    "summary",
    "category",
    "status",
    "colour",
    "level",
    "source",
    "overdue",
    "registered_on",
    "grid_name",
]

TOWN = "/330482/330482001/"  # 当湖街道: centre1's town


def ordered(text: str):
    """The JSON with every object as its list of (key, value) pairs, in the order sent."""
    return json.loads(text, object_pairs_hook=list)


def keys(pairs) -> list[str]:
    return [k for k, _v in pairs]


async def _case_of_town(*conditions) -> int:
    row = await (
        Case.select(Case.id)
        .where(Case.region_path.like(TOWN + "%"), *conditions)
        .order_by(Case.id)
        .first()
    )
    assert row is not None, "the demo county has such a case"
    return row["id"]


async def _expected_case(case_id: int) -> dict:
    """What the API must say about the case, read from the tables directly."""
    case = await Case.select().where(Case.id == case_id).first()
    grid = await Grid.select(Grid.name, Grid.region).where(Grid.id == case["grid"]).first()
    community = await Region.select(Region.name).where(Region.id == grid["region"]).first()
    parties = await Party.select().where(Party.case == case_id).order_by(Party.id)
    events = await (
        CaseEvent.select(CaseEvent.action, CaseEvent.at, CaseEvent.actor.display_name)
        .where(CaseEvent.case == case_id)
        .order_by(CaseEvent.at, CaseEvent.id)
    )
    mediators = await (
        CaseMediator.select(
            CaseMediator.id, CaseMediator.mediator, CaseMediator.mediator.staff.display_name
        )
        .where(CaseMediator.case == case_id)
        .order_by(CaseMediator.id)
    )
    amount = case["amount"]
    return {
        "id": case["id"],
        "number": case["number"],
        "status": case["status"],
        "grid": case["grid"],
        "grid_name": grid["name"],
        "community": community["name"],
        "amount": None if amount is None else f"{Decimal(amount):.2f}",
        "registered_on": case["registered_on"].isoformat(),
        "registered_at": to_local(case["registered_at"]).isoformat(),
        "version": case["version"],
        "parties": [
            [p["id"], p["name"], p["id_number_masked"], mask_phone(p["phone"])] for p in parties
        ],
        "events": [
            [e["action"], to_local(e["at"]).isoformat(), e["actor.display_name"]] for e in events
        ],
        "mediators": [
            [m["id"], m["mediator"], m["mediator.staff.display_name"]] for m in mediators
        ],
    }


def _check_case_document(text: str, expected: dict) -> dict:
    pairs = ordered(text)
    assert keys(pairs) == CASE_FIELDS
    body = dict(pairs)
    for part, fields in (
        ("parties", PARTY_FIELDS),
        ("clocks", CLOCK_FIELDS),
        ("events", EVENT_FIELDS),
        ("mediators", MEDIATOR_FIELDS),
    ):
        assert [keys(item) for item in body[part]] == [fields] * len(body[part]), part
    for field in (
        "id",
        "number",
        "status",
        "grid",
        "grid_name",
        "community",
        "amount",
        "registered_on",
        "registered_at",
        "version",
    ):
        assert body[field] == expected[field], field
    parties = [dict(p) for p in body["parties"]]
    assert [
        [p["id"], p["name"], p["id_number_masked"], p["phone_masked"]] for p in parties
    ] == expected["parties"]
    events = [dict(e) for e in body["events"]]
    assert [[e["action"], e["at"], e["actor"]] for e in events] == expected["events"]
    mediators = [dict(m) for m in body["mediators"]]
    assert [[m["id"], m["mediator_id"], m["name"]] for m in mediators] == expected["mediators"]
    return body


async def test_a_mediated_case_reads_with_every_field_in_order(client):
    case_id = await _case_of_town(
        Case.amount.is_not_null(),
        Case.id.is_in(CaseMediator.select(CaseMediator.case)),
    )
    await login(client, "centre1")
    response = await client.get(f"/api/cases/{case_id}")
    assert response.status_code == 200
    body = _check_case_document(response.text, await _expected_case(case_id))
    assert body["mediators"] and body["events"] and body["parties"]
    assert body["suggestion"] is None


async def test_a_case_from_a_suggestion_links_it_for_the_centre_and_names_it_for_the_grid(
    client,
):
    case_id = await _case_of_town(Case.id.is_in(Suggestion.select(Suggestion.case)))
    suggestion = await (
        Suggestion.select(Suggestion.id, Suggestion.tracking_code)
        .where(Suggestion.case == case_id)
        .first()
    )
    await login(client, "centre1")
    response = await client.get(f"/api/cases/{case_id}")
    assert response.status_code == 200
    body = _check_case_document(response.text, await _expected_case(case_id))
    assert body["suggestion"] == [
        ("id", suggestion["id"]),
        ("tracking_code", suggestion["tracking_code"]),
        ("url", f"/suggestions/{suggestion['id']}"),
    ]


async def test_list_items_carry_their_fields_in_order_as_stored(client):
    await login(client, "centre1")
    response = await client.get("/api/cases?page=2")
    assert response.status_code == 200
    pairs = ordered(response.text)
    assert keys(pairs) == ["items", "page", "has_more"]
    items = dict(pairs)["items"]
    assert items and [keys(i) for i in items] == [LIST_ITEM_FIELDS] * len(items)
    items = [dict(i) for i in items]
    ids = [i["id"] for i in items]
    assert ids == sorted(ids, reverse=True)
    rows = {
        r["id"]: r
        for r in await Case.select(
            Case.id,
            Case.number,
            Case.summary,
            Case.category,
            Case.status,
            Case.colour,
            Case.level,
            Case.source,
            Case.overdue,
            Case.registered_on,
            Case.grid.name,
        ).where(Case.id.is_in(ids))
    }
    for item in items:
        row = rows[item["id"]]
        assert item == {
            "id": row["id"],
            "number": row["number"],
            "summary": row["summary"],
            "category": row["category"],
            "status": row["status"],
            "colour": row["colour"],
            "level": row["level"],
            "source": row["source"],
            "overdue": row["overdue"],
            "registered_on": row["registered_on"].isoformat(),
            "grid_name": row["grid.name"],
        }
