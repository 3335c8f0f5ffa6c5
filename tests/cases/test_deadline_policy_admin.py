"""The administrator edits the deadline policy; a bad policy is refused and nothing changes."""

from __future__ import annotations

import json

import pytest

from mediation.cases import services
from mediation.cases.deadlines import DEFAULT_POLICY_PATH
from tests.helpers import login, post_form

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
