"""Similar suggestions come from the index each process keeps, and match a full comparison."""

from __future__ import annotations

import uuid

import pytest

from mediation.suggestions import services
from mediation.suggestions.tables import Suggestion
from tests.cases.conftest import user

pytestmark = pytest.mark.anyio


async def _submit(topic: str, reason: str, measures: str) -> int:
    values = {
        "topic": topic,
        "reason": reason,
        "measures": measures,
        "name": "周玥",
        "phone": "13812340000",
        "reply_by_phone": "1",
    }
    _cleaned, errors, receipt = await services.submit_suggestion(values, "web")
    assert errors == {}, errors
    row = await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == receipt[0])
    return row[0]["id"]


async def test_the_index_finds_what_comparing_every_suggestion_finds():
    admin = await user("admin")
    tag = uuid.uuid4().hex[:6]
    first = await _submit(
        f"梅园小区门口增设电动自行车充电桩 {tag}",
        "小区电动自行车多，楼道充电有火灾隐患。",
        "在小区门口空地建集中充电棚。",
    )
    ids = [r["id"] for r in await Suggestion.select(Suggestion.id).order_by(Suggestion.id)]
    assert (await services.similar_to(admin, first)) is not None  # the index is built now
    # Registered after the index was built: found on the next look-up, both ways.
    second = await _submit(
        f"梅园小区门口增设电动自行车充电桩 {tag}",
        "小区电动自行车多，楼道充电有火灾隐患。",
        "在小区门口空地建集中充电棚。",
    )
    assert second in [s.id for s in await services.similar_to(admin, first)]
    assert first in [s.id for s in await services.similar_to(admin, second)]
    compared = 0
    for suggestion_id in [first, second, *ids[:: max(1, len(ids) // 25)]]:
        found = [(s.id, s.score) for s in await services.similar_to(admin, suggestion_id)]
        expected = [
            (i, round(score, 2)) for i, score in await services.similar_to_scan(suggestion_id)
        ]
        assert found == expected, suggestion_id
        compared += bool(expected)
    assert compared >= 3  # the demo has look-alikes: the comparison is not vacuous
