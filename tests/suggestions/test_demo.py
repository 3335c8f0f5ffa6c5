"""Demo suggestions: loaded once through the real services, every stage, believable clocks."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest

from mediation.cases.services import today
from mediation.cases.tables import Case, CaseEvent
from mediation.clock import local_date, local_now
from mediation.demo.suggestions import POINTS, load_demo_suggestions
from mediation.grid.tables import Department, Staff
from mediation.suggestions.rules import Outcome, SuggestionStatus
from mediation.suggestions.tables import (
    DirectReportPoint,
    Suggestion,
    SuggestionEvent,
    SuggestionTopic,
)

pytestmark = [pytest.mark.anyio, pytest.mark.module_database]


_DEMO_IDS: set[int] = set()


@pytest.fixture
async def demo() -> list[dict]:
    """The demo suggestions, loaded by the first test that needs them."""
    if not _DEMO_IDS:
        before = {r["id"] for r in await Suggestion.select(Suggestion.id)}
        created = await load_demo_suggestions()
        rows = await Suggestion.select(Suggestion.id, Suggestion.created_at)
        if created:
            assert created == 150
            ids = {r["id"] for r in rows if r["id"] not in before}
            assert len(ids) == created
        else:
            # Loaded with the demo county: its rows are the back-dated ones, whose times are
            # whole minutes (a real submission's time has seconds and microseconds).
            ids = {
                r["id"]
                for r in rows
                if r["created_at"].second == 0 and r["created_at"].microsecond == 0
            }
            assert len(ids) >= 150
        _DEMO_IDS.update(ids)
    assert await load_demo_suggestions() == 0, "loading twice must change nothing"
    return await Suggestion.select().where(Suggestion.id.is_in(sorted(_DEMO_IDS)))


async def test_three_points_without_devices_and_two_collections(demo):
    points = await DirectReportPoint.select().where(
        DirectReportPoint.code.is_in([p[0] for p in POINTS])
    )
    assert sorted(p["name"] for p in points) == sorted(p[1] for p in POINTS)
    assert all(p["device_token_digest"] == "" and p["active"] for p in points)
    by_point = {p["id"] for p in points}
    assert {r["point"] for r in demo if r["channel"] == "direct_report_point"} == by_point

    topics = {t["title"]: t for t in await SuggestionTopic.select()}
    on = today()
    livelihood = next(t for title, t in topics.items() if title.endswith("年民生实事项目征集"))
    renovation = topics["老旧小区改造意见征集"]
    assert livelihood["opens_on"] <= on <= livelihood["closes_on"]
    first_of_month = on.replace(day=1)
    assert first_of_month - timedelta(days=31) <= renovation["closes_on"] < first_of_month
    answers = [r for r in demo if r["call"] == renovation["id"]]
    assert answers and all(
        renovation["opens_on"] <= r["received_on"] <= renovation["closes_on"] for r in answers
    )
    assert any(r["call"] == livelihood["id"] for r in demo)


async def test_every_stage_outcome_and_rating_is_there(demo):
    assert {r["status"] for r in demo} == {s.value for s in SuggestionStatus}
    assert {r["outcome"] for r in demo} >= {o.value for o in Outcome}
    assert {r["rating"] for r in demo} >= {"satisfied", "basically_satisfied"}
    assert any(r["times_reopened"] == 1 for r in demo)
    assert any(r["confidential"] for r in demo)
    assert any(r["group_leader"] for r in demo)
    assert 0 < sum(r["overdue"] for r in demo) < len(demo) / 3
    assert len({r["channel"] for r in demo}) >= 5
    assert len({r["region_path"] for r in demo}) >= 8


async def test_departments_and_handlers_did_their_part(demo):
    departments = {d["id"]: d["code"] for d in await Department.select()}
    routed = [r for r in demo if r["status"] in ("transferred", "handling", "replied", "concluded")]
    assert routed and all(r["department"] in departments for r in routed)
    handler1 = (await Staff.select(Staff.id).where(Staff.username == "handler1").first())["id"]
    replies = await SuggestionEvent.select(SuggestionEvent.actor).where(
        SuggestionEvent.action == "reply",
        SuggestionEvent.suggestion.is_in([r["id"] for r in routed]),
    )
    assert any(e["actor"] == handler1 for e in replies)


async def test_grievances_became_real_dispute_cases(demo):
    rerouted = [r for r in demo if r["case"]]
    assert rerouted
    for row in rerouted:
        case = await Case.select().where(Case.id == row["case"]).first()
        assert case["source"] == "suggestion"
        assert case["registered_on"] >= row["received_on"]
        assert await CaseEvent.exists().where(
            CaseEvent.case == row["case"], CaseEvent.action == "from_suggestion"
        )
    # Rerouting registered the cases through the service: numbers stay gap-free.
    by_year: dict[str, list[int]] = {}
    for row in await Case.select(Case.number):
        prefix, seq = row["number"].rsplit("-", 1)
        by_year.setdefault(prefix, []).append(int(seq))
    for prefix, seqs in by_year.items():  # numbers restart each year
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), prefix


async def test_the_clocks_look_like_months_of_real_work(demo):
    on = today()
    now = local_now()
    assert min(r["received_on"] for r in demo) <= on - timedelta(days=120)
    assert max(r["received_on"] for r in demo) >= on - timedelta(days=3)
    events = await SuggestionEvent.select().where(
        SuggestionEvent.suggestion.is_in([r["id"] for r in demo])
    )
    by_suggestion = defaultdict(list)
    for event in events:
        by_suggestion[event["suggestion"]].append(event)
    for row in demo:
        timeline = sorted(by_suggestion[row["id"]], key=lambda e: e["id"])
        assert timeline[0]["action"] == "received"
        assert timeline[0]["at"] == row["created_at"]
        assert local_date(row["created_at"]) == row["received_on"]
        times = [e["at"] for e in timeline]
        assert times == sorted(times), row["tracking_code"]
        assert times[-1] <= now
        assert str(row["received_on"].year) in row["tracking_code"]
        if row["replied_at"]:
            assert row["received_on"] < local_date(row["replied_at"]) <= on
        assert row["route_due"] > row["received_on"] and row["conclude_due"] > row["route_due"]
