"""Grouped suggestions: members follow their leader, each proposer rates and reopens alone.

Three proposers wrote about the same crossroads (A1, A2, A3). Staff group A2 and A3 under A1
and then work only on A1: routing, the reply and its outcome, the conclusion reach A2 and A3,
and each of their proposers sees it on /track with their own code and secret.
"""

from __future__ import annotations

import uuid

import pytest

from mediation.grid.tables import Department
from mediation.suggestions import services
from mediation.suggestions.services import SuggestionError
from mediation.suggestions.tables import Suggestion, SuggestionEvent
from tests.cases.conftest import user
from tests.helpers import post_form, text_of

pytestmark = pytest.mark.anyio

REPLY = "东湖路与胜利路口已增设左转专用相位，早晚高峰排队明显缩短。"


def _values(topic: str) -> dict:
    return {
        "topic": f"{topic}（{uuid.uuid4().hex[:6]}）",
        "reason": "东湖路与胜利路口早晚高峰拥堵严重，左转车辆排队超过三百米。",
        "measures": "增设左转专用信号相位，高峰时段安排交警疏导。",
        "name": "周玥",
        "phone": "13812340000",
        "consent_to_publish": "1",
    }


async def _file(topic: str) -> tuple[int, str, str]:
    _cleaned, errors, receipt = await services.submit_suggestion(_values(topic), "web")
    assert errors == {}, errors
    code, secret = receipt
    row = await Suggestion.select(Suggestion.id).where(Suggestion.tracking_code == code).first()
    return row["id"], code, secret


async def _row(sid: int) -> dict:
    return await Suggestion.select().where(Suggestion.id == sid).first()


async def _department() -> int:
    return (await Department.select(Department.id).where(Department.code == "zjj").first())["id"]


async def _crossroads() -> list[tuple[int, str, str]]:
    """A1, A2, A3 registered; A2 and A3 grouped under A1."""
    admin = await user("admin")
    group = [
        await _file("东湖路胜利路口拥堵"),
        await _file("胜利路口左转排队太长"),
        await _file("东湖路红绿灯路口早高峰堵车"),
    ]
    for sid, _code, _secret in group:
        await services.move(admin, sid, "register", {})
    for sid, _code, _secret in group[1:]:
        await services.group_with(admin, sid, group[0][0])
    return group


async def _route_and_reply(leader: int, outcome: str = "adopted") -> None:
    admin = await user("admin")
    await services.move(admin, leader, "transfer", {"department": str(await _department())})
    handler = await user("handler1")
    await services.move(handler, leader, "start_handling", {})
    await services.move(handler, leader, "reply", {"outcome": outcome, "reply_text": REPLY})


async def test_routing_the_leader_moves_every_member(client):
    (a1, _c1, _s1), (a2, _c2, _s2), (a3, _c3, _s3) = await _crossroads()
    admin = await user("admin")
    await services.move(admin, a1, "transfer", {"department": str(await _department())})
    for sid in (a2, a3):
        row = await _row(sid)
        assert row["status"] == "transferred" and row["department"] == await _department()
        # The department's handler finds the members in the inbox, too.
        assert await services.suggestion_for_staff(await user("handler1"), sid) is not None


async def test_a_reply_to_the_leader_is_on_every_members_tracking_page(client):
    group = await _crossroads()
    await _route_and_reply(group[0][0])
    for sid, code, secret in group:
        row = await _row(sid)
        assert row["status"] == "replied" and row["outcome"] == "adopted"
        assert row["reply_text"] == REPLY and row["replied_at"] is not None
        page = await post_form(client, "/track", {"code": code, "secret": secret})
        assert page.status_code == 200
        text = text_of(page.text)
        assert REPLY in text, code
        assert "采纳" in text  # the outcome, adopted
        assert "满意" in text  # and the proposer may rate it


async def test_each_member_has_the_reply_written_on_its_own_timeline(client):
    group = await _crossroads()
    await _route_and_reply(group[0][0])
    for sid, _code, _secret in group[1:]:
        actions = [
            e["action"]
            for e in await SuggestionEvent.select(SuggestionEvent.action)
            .where(SuggestionEvent.suggestion == sid)
            .order_by(SuggestionEvent.id)
        ]
        assert actions == [
            "received",
            "register",
            "grouped",
            "transfer",
            "start_handling",
            "reply",
        ]


async def test_a_member_rates_and_reopens_on_its_own_and_leaves_the_group(client):
    (a1, c1, s1), (a2, c2, s2), (a3, c3, s3) = await _crossroads()
    await _route_and_reply(a1)
    assert await services.rate(c2, s2, "not_satisfied") is True
    assert await services.rate(c3, s3, "satisfied") is False
    a2_row, a3_row, a1_row = await _row(a2), await _row(a3), await _row(a1)
    assert a2_row["status"] == "handling" and a2_row["times_reopened"] == 1
    assert a2_row["group_leader"] is None  # handled again for this proposer alone
    assert a3_row["status"] == "replied" and a3_row["rating"] == "satisfied"
    assert a1_row["status"] == "replied" and a1_row["rating"] == ""
    assert a1_row["group_leader"] is None
    assert a3_row["group_leader"] == a1
    # The leader's proposer has not rated yet, and still may.
    assert (await services.track(c1, s1)).can_rate is True
    # The member is answered again on its own; its one reopening is used up.
    handler = await user("handler1")
    await services.move(handler, a2, "reply", {"outcome": "partly_adopted", "reply_text": "再复"})
    assert await services.rate(c2, s2, "not_satisfied") is False
    # Concluding the leader concludes the member that still follows it, not the one that left.
    await services.move(await user("admin"), a1, "conclude", {})
    assert (await _row(a3))["status"] == "concluded"
    assert (await _row(a2))["status"] == "replied"


async def test_the_leaders_reopening_leaves_the_members_answer_alone(client):
    (a1, c1, s1), (a2, _c2, _s2), _a3 = await _crossroads()
    await _route_and_reply(a1)
    assert await services.rate(c1, s1, "not_satisfied") is True
    assert (await _row(a1))["status"] == "handling"
    member = await _row(a2)
    assert member["status"] == "replied" and member["reply_text"] == REPLY


async def test_a_step_on_a_member_alone_is_refused(client):
    (_a1, c1, _s1), (a2, _c2, _s2), _a3 = await _crossroads()
    with pytest.raises(SuggestionError) as refused:
        await services.move(
            await user("admin"), a2, "transfer", {"department": str(await _department())}
        )
    assert c1 in refused.value.message
    assert (await _row(a2))["status"] == "registered"


async def test_a_member_joining_late_catches_up_with_the_reply(client):
    (a1, _c1, _s1), _a2, _a3 = await _crossroads()
    await _route_and_reply(a1)
    late, code, secret = await _file("胜利路口又堵了")
    admin = await user("admin")
    await services.move(admin, late, "register", {})
    await services.group_with(admin, late, a1)
    row = await _row(late)
    assert row["status"] == "replied" and row["reply_text"] == REPLY
    assert row["department"] == await _department()
    tracked = await services.track(code, secret)
    assert tracked.reply_text == REPLY and tracked.can_rate is True


async def test_leaving_a_group_is_recorded_and_the_member_goes_on_alone(client):
    (a1, _c1, _s1), (a2, c2, s2), _a3 = await _crossroads()
    admin = await user("admin")
    page = await post_form(client, f"/suggestions/{a2}/ungroup", {})
    assert page.status_code in (302, 303, 401, 403)  # not signed in: refused or sent to login
    from tests.helpers import login

    await login(client, "admin")
    response = await post_form(client, f"/suggestions/{a2}/ungroup", {})
    assert response.status_code == 303
    row = await _row(a2)
    assert row["group_leader"] is None
    event = (
        await SuggestionEvent.select()
        .where(SuggestionEvent.suggestion == a2, SuggestionEvent.action == "ungrouped")
        .first()
    )
    assert event is not None and event["actor"] == admin.id
    # The leader's routing no longer moves it.
    await services.move(admin, a1, "transfer", {"department": str(await _department())})
    assert (await _row(a2))["status"] == "registered"
    tracked = await services.track(c2, s2)
    assert [e.action for e in tracked.events][-1] == "ungrouped"
    detail = await client.get(f"/suggestions/{a1}")
    assert detail.status_code == 200


async def test_closing_the_leader_hands_the_group_to_its_earliest_member(client):
    (a1, _c1, _s1), (a2, _c2, _s2), (a3, _c3, _s3) = await _crossroads()
    admin = await user("admin")
    await services.move(admin, a1, "close", {"close_reason": "withdrawn"})
    assert (await _row(a2))["status"] == "registered"
    assert (await _row(a2))["group_leader"] is None
    assert (await _row(a3))["group_leader"] == a2
    await services.move(admin, a2, "transfer", {"department": str(await _department())})
    assert (await _row(a3))["status"] == "transferred"


async def test_the_member_page_says_it_follows_its_leader_and_offers_no_steps(client):
    from tests.helpers import login

    (a1, c1, _s1), (a2, _c2, _s2), _a3 = await _crossroads()
    await login(client, "admin")
    page = await client.get(f"/suggestions/{a2}")
    assert page.status_code == 200
    assert 'id="follows-leader"' in page.text and c1 in page.text
    assert 'name="action"' not in page.text
    leader_page = await client.get(f"/suggestions/{a1}")
    assert f'action="/suggestions/{a2}/ungroup"' in leader_page.text


# ---------------------------------------------------------------- re-routed into a case


async def _rerouted() -> tuple[int, str, str, int]:
    from tests.cases.conftest import grid_id

    sid, code, secret = await _file("楼上邻居深夜装修噪音")
    admin = await user("admin")
    await services.move(admin, sid, "register", {})
    case_id = await services.reroute_to_case(admin, sid, await grid_id(), "neighbour")
    return sid, code, secret, case_id


async def test_a_rerouted_suggestion_and_its_case_link_to_each_other(client):
    from mediation.cases.tables import Case
    from tests.helpers import login

    sid, code, secret, case_id = await _rerouted()
    number = (await Case.select(Case.number).where(Case.id == case_id).first())["number"]
    # The town's centre staff work both suggestions and cases (the county admin no cases).
    await login(client, "centre1")
    suggestion_page = await client.get(f"/suggestions/{sid}")
    assert f'href="/cases/{case_id}"' in suggestion_page.text and number in suggestion_page.text
    case_page = await client.get(f"/cases/{case_id}")
    assert f'<a href="/suggestions/{sid}">{code}</a>' in case_page.text
    api = (await client.get(f"/api/cases/{case_id}")).json()
    assert api["suggestion"] == {"id": sid, "tracking_code": code, "url": f"/suggestions/{sid}"}
    # The proposer learns which case it became.
    tracked = await post_form(client, "/track", {"code": code, "secret": secret})
    assert number in text_of(tracked.text)


async def test_the_grid_worker_sees_where_the_case_came_from_without_a_dead_link(client):
    from tests.helpers import login

    sid, code, _secret, case_id = await _rerouted()
    await login(client, "grid1")
    case_page = await client.get(f"/cases/{case_id}")
    assert case_page.status_code == 200
    assert code in case_page.text and f'href="/suggestions/{sid}"' not in case_page.text
    api = (await client.get(f"/api/cases/{case_id}")).json()
    assert api["suggestion"]["tracking_code"] == code and api["suggestion"]["url"] is None


async def test_a_case_not_from_a_suggestion_has_no_suggestion_link(client):
    from mediation.cases.services import register_case
    from tests.cases.conftest import deposit_case, grid_id
    from tests.helpers import login

    admin = await user("admin")
    case_id = await register_case(deposit_case(await grid_id()), admin, uuid.uuid4().hex)
    await login(client, "centre1")
    assert (await client.get(f"/api/cases/{case_id}")).json()["suggestion"] is None


async def _leader_notes(leader: int) -> list[tuple[str, str, bool]]:
    rows = (
        await SuggestionEvent.select(
            SuggestionEvent.action, SuggestionEvent.note, SuggestionEvent.public
        )
        .where(
            SuggestionEvent.suggestion == leader,
            SuggestionEvent.action.is_in(["member_joined", "member_left"]),
        )
        .order_by(SuggestionEvent.id)
    )
    return [(r["action"], r["note"], r["public"]) for r in rows]


async def test_the_leaders_timeline_says_who_joined_and_left_its_group(client):
    """Someone reading the leader alone sees when its group changed and by whom; its
    proposer's tracking page does not list the other proposers' codes."""
    (a1, c1, s1), (a2, c2, _s2), (a3, c3, s3) = await _crossroads()
    admin = await user("admin")
    assert await _leader_notes(a1) == [("member_joined", c2, False), ("member_joined", c3, False)]
    joined = await SuggestionEvent.select(SuggestionEvent.actor).where(
        SuggestionEvent.suggestion == a1, SuggestionEvent.action == "member_joined"
    )
    assert {r["actor"] for r in joined} == {admin.id}
    await services.leave_group(admin, a2)
    # A member whose proposer is not satisfied reopens and leaves on its own.
    await _route_and_reply(a1)
    assert await services.rate(c3, s3, "not_satisfied") is True
    assert await _leader_notes(a1) == [
        ("member_joined", c2, False),
        ("member_joined", c3, False),
        ("member_left", c2, False),
        ("member_left", c3, False),
    ]
    tracked = await services.track(c1, s1)
    assert not {"member_joined", "member_left"} & {e.action for e in tracked.events}
    from tests.helpers import login

    await login(client, "centre2")
    page = text_of((await client.get(f"/suggestions/{a1}")).text)
    assert "一件相似建议并入本组" in page and "一件建议移出本组" in page
    assert c2 in page and c3 in page
