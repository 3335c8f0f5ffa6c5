"""The administrator edits the deadline policy; a bad policy is refused and nothing changes."""

from __future__ import annotations

import json
import re

import pytest

from mediation.cases import services
from mediation.cases.deadlines import DEFAULT_POLICY_PATH
from tests.helpers import login, post_form, text_of

pytestmark = pytest.mark.anyio


async def test_only_the_administrator_opens_the_policy(client):
    await login(client, "centre1")
    assert (await client.get("/admin/deadlines")).status_code == 403
    client.cookies.clear()
    await login(client, "admin")
    page = await client.get("/admin/deadlines")
    assert page.status_code == 200 and "办理时限规则" in page.text


async def test_broken_json_is_refused_beside_the_field_and_kept(client):
    await login(client, "admin")
    response = await post_form(client, "/admin/deadlines", {"body": '{"version": 1,'})
    assert response.status_code == 422
    assert "不是有效的 JSON" in response.text
    assert "{&#34;version&#34;: 1," in response.text or '{"version": 1,' in response.text


async def test_a_policy_with_a_bad_unit_is_refused(client):
    await login(client, "admin")
    body = json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    first = next(iter(body["clocks"]))
    body["clocks"][first]["unit"] = "fortnights"
    response = await post_form(client, "/admin/deadlines", {"body": json.dumps(body)})
    assert response.status_code == 422
    assert "规则无效" in response.text


async def test_a_valid_policy_is_saved_and_used(client):
    await login(client, "admin")
    body = json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    response = await post_form(
        client, "/admin/deadlines", {"body": json.dumps(body, ensure_ascii=False)}
    )
    assert response.status_code == 303
    policy = await services.current_policy()
    assert set(policy.clocks) == set(body["clocks"])


def default_body() -> dict:
    return json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))


async def test_absurd_day_counts_are_refused_naming_the_bound(client):
    await login(client, "admin")
    body = default_body()
    body["clocks"]["handle"]["days"] = 99999999
    text = json.dumps(body, ensure_ascii=False)
    response = await post_form(client, "/admin/deadlines", {"body": text})
    assert response.status_code == 422
    page = text_of(response.text)
    assert "clocks.handle.days" in page and "3650" in page
    assert "99999999" in response.text  # what was typed is kept
    policy = await services.current_policy()
    assert policy.clocks["handle"].days == 7


async def a_case_id() -> int:
    from mediation.cases.tables import Case

    row = await Case.select(Case.id).where(Case.status == "mediating").first()
    return row["id"]


async def test_a_stored_policy_beyond_the_bound_never_takes_a_case_page_down(client):
    """A policy saved before days were bounded: passed over with the reason on the admin page."""
    from mediation.cases import policy_store
    from mediation.cases.tables import DeadlinePolicy

    body = default_body()
    body["clocks"]["handle"]["days"] = 99999999
    stored = DeadlinePolicy(body=body)
    await stored.save()
    policy_store.forget_shown_policy()
    try:
        policy = await services.current_policy()
        assert policy.clocks["handle"].days == 7
        await login(client, "centre2")
        page = await client.get(f"/cases/{await a_case_id()}")
        assert page.status_code == 200
        client.cookies.clear()
        await login(client, "admin")
        admin_page = await client.get("/admin/deadlines")
        assert admin_page.status_code == 200
        assert "clocks.handle.days" in text_of(admin_page.text)
        assert 'id="body-error"' in admin_page.text
    finally:
        await DeadlinePolicy.delete().where(DeadlinePolicy.id == stored.id)
        policy_store.forget_shown_policy()


async def test_a_clock_that_cannot_be_counted_shows_as_unknown(client, monkeypatch):
    import dataclasses
    import time

    from mediation.cases import policy_store
    from mediation.cases.deadlines import default_policy

    policy = default_policy()
    huge = dataclasses.replace(
        policy,
        clocks={
            name: dataclasses.replace(rule, days=99999999) for name, rule in policy.clocks.items()
        },
    )
    monkeypatch.setattr(policy_store, "_shown", huge)
    monkeypatch.setattr(policy_store, "_loaded_at", time.monotonic())
    await login(client, "centre2")
    page = await client.get(f"/cases/{await a_case_id()}")
    assert page.status_code == 200
    assert "期限未知" in text_of(page.text)
    api = await client.get(f"/api/cases/{await a_case_id()}")
    assert api.status_code == 200
    assert {c["due"] for c in api.json()["clocks"]} == {None}


async def test_a_misspelt_category_is_refused_naming_it(client):
    await login(client, "admin")
    body = default_body()
    body["categories"]["labor"] = body["categories"].pop("labour")
    response = await post_form(client, "/admin/deadlines", {"body": json.dumps(body)})
    assert response.status_code == 422
    error = re.search(r'id="body-error">(.*?)</p>', response.text).group(1)
    assert "labor" in error and "medical" not in error
    assert "&#34;labor&#34;" in response.text or '"labor"' in response.text  # kept as typed
    policy = await services.current_policy()
    assert "labour" in policy.categories and "labor" not in policy.categories


async def test_a_category_added_by_the_administrator_may_have_its_own_rule(client):
    from mediation.cases.category_store import refresh_categories
    from mediation.grid.tables import DisputeCategory

    await DisputeCategory(code="education", name_zh="教育纠纷", name_en="Education").save()
    await refresh_categories(force=True)
    try:
        await login(client, "admin")
        body = default_body()
        body["categories"]["education"] = {"clocks": {"mediation": {"days": 20}}}
        response = await post_form(client, "/admin/deadlines", {"body": json.dumps(body)})
        assert response.status_code == 303
        assert "education" in (await services.current_policy()).categories
        # While the policy has a rule for it, the category is not deleted from under it.
        pk = (
            await DisputeCategory.select(DisputeCategory.id)
            .where(DisputeCategory.code == "education")
            .first()
        )["id"]
        refused = await post_form(client, f"/admin/categories/{pk}/delete", {})
        assert refused.status_code == 409
        assert "办理时限规则中有此类别的规则" in text_of(refused.text)
        assert await DisputeCategory.exists().where(DisputeCategory.code == "education")
    finally:
        await DisputeCategory.delete().where(DisputeCategory.code == "education")
        await refresh_categories(force=True)


def policy_error(response) -> str:
    import html

    return html.unescape(re.search(r'id="body-error">(.*?)</p>', response.text).group(1))


async def test_the_policys_refusals_speak_the_pages_language(client):
    await login(client, "admin")
    body = default_body()
    body["colours"]["purple"] = body["colours"].pop("yellow")
    response = await post_form(client, "/admin/deadlines", {"body": json.dumps(body)})
    assert response.status_code == 422
    assert policy_error(response) == (
        "规则无效：colours.purple：不是风险颜色（可用：red, yellow, green）"
    )
    await post_form(client, "/locale", {"locale": "en", "next": "/admin/deadlines"})
    response = await post_form(client, "/admin/deadlines", {"body": json.dumps(body)})
    assert policy_error(response) == (
        "The policy is not valid: colours.purple is not a risk colour (red, yellow, green)"
    )
    await post_form(client, "/locale", {"locale": "zh_CN", "next": "/"})


async def test_the_policy_page_lists_the_category_codes_with_their_names(client):
    await login(client, "admin")
    page = text_of((await client.get("/admin/deadlines")).text)
    assert "纠纷类别代码" in page and "labour 劳动争议" in page


async def test_a_notification_nobody_acts_on_and_a_body_nested_too_deep_are_refused(client):
    """A misspelt recipient would notify nobody; a body nested past Python's limits must get a
    message beside the field, never an error page."""
    await login(client, "admin")
    body = default_body()
    body["categories"]["labour"]["notify_on_register"] = ["polise"]
    response = await post_form(
        client, "/admin/deadlines", {"body": json.dumps(body, ensure_ascii=False)}
    )
    assert response.status_code == 422
    page = text_of(response.text)
    assert "categories.labour.notify_on_register" in page and "polise" in page
    assert "town_centre" in page
    deep = "[" * 100_000 + "]" * 100_000
    response = await post_form(client, "/admin/deadlines", {"body": deep})
    assert response.status_code == 422
    assert "嵌套层级过深" in text_of(response.text)
    assert (await services.current_policy()).clocks["handle"].days == 7
