"""Signing in and out: Argon2 passwords, sessions, rate limit, CSRF."""

from __future__ import annotations

import pytest

from mediation.accounts.services import hash_password, verify_password
from mediation.app import create_app
from mediation.grid.tables import AuditEvent, Staff
from tests.helpers import login, post_form, text_of

pytestmark = pytest.mark.anyio


def test_passwords_are_hashed_with_argon2():
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "wrong")
    assert not verify_password("not-a-hash", "wrong")


@pytest.mark.pure
def test_outside_the_tests_passwords_get_argon2s_default_cost(monkeypatch):
    from argon2 import profiles

    from mediation.accounts.services import _make_hasher

    monkeypatch.delenv("MEDIATION_TEST_CHEAP_HASHES", raising=False)
    hasher = _make_hasher()
    default = profiles.RFC_9106_LOW_MEMORY
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        default.time_cost,
        default.memory_cost,
        default.parallelism,
    )
    assert (hasher.time_cost, hasher.memory_cost) == (3, 65536)


async def test_it_signs_in_and_shows_the_home_page(client):
    response = await login(client, "grid1")
    assert response.headers["location"] == "/"
    home = await client.get("/")
    assert home.status_code == 200
    assert "东湖社区第1网格" in home.text


async def test_the_session_cookie_is_http_only_and_same_site(client):
    response = await login(client, "grid1")
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "msession" in v
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()


async def test_it_rejects_a_wrong_password_and_keeps_the_user_name(client):
    response = await post_form(client, "/login", {"username": "grid1", "password": "nope"})
    assert response.status_code == 422
    assert "用户名或密码不正确" in response.text
    assert 'value="grid1"' in response.text
    assert (await client.get("/", follow_redirects=False)).status_code in (302, 303)


async def test_it_rejects_an_unknown_user_the_same_way(client):
    response = await post_form(client, "/login", {"username": "nobody", "password": "x" * 12})
    assert response.status_code == 422
    assert "用户名或密码不正确" in response.text


async def test_it_asks_for_missing_fields_beside_each_field(client):
    response = await post_form(client, "/login", {"username": "", "password": ""})
    assert response.status_code == 422
    page = text_of(response.text)
    assert "请输入用户名" in page and "请输入密码" in page


async def test_an_inactive_account_cannot_sign_in(client):
    await Staff.update({Staff.active: False}).where(Staff.username == "grid24")
    try:
        response = await post_form(
            client, "/login", {"username": "grid24", "password": "mediation-demo"}
        )
        assert response.status_code == 422
    finally:
        await Staff.update({Staff.active: True}).where(Staff.username == "grid24")


async def test_failed_and_successful_sign_ins_are_recorded(client):
    before = await AuditEvent.count().where(AuditEvent.action == "login_failed")
    await post_form(client, "/login", {"username": "police1", "password": "wrong-password"})
    await login(client, "police1")
    assert await AuditEvent.count().where(AuditEvent.action == "login_failed") == before + 1
    assert await AuditEvent.exists().where(
        AuditEvent.action == "login", AuditEvent.detail == "police1"
    )


async def test_it_rate_limits_sign_in_attempts(settings):
    from dataclasses import replace

    from litestar.testing import AsyncTestClient

    app = create_app(replace(settings, login_rate_limit=3))
    async with AsyncTestClient(app) as client:
        codes = []
        for _ in range(5):
            response = await post_form(client, "/login", {"username": "grid1", "password": "bad"})
            codes.append(response.status_code)
        assert codes[:3] == [422, 422, 422]
        assert codes[3:] == [429, 429]
        assert "尝试次数过多" in response.text
        # Other pages are not throttled.
        assert (await client.get("/login")).status_code == 200


async def test_a_post_without_the_csrf_token_is_refused(client):
    await login(client, "admin")
    response = await client.post("/logout", follow_redirects=False)
    assert response.status_code == 403
    response = await client.post(
        "/admin/categories/new",
        data={"code": "x", "name_zh": "x", "name_en": "x"},
        headers={"x-csrftoken": "forged-token"},
    )
    assert response.status_code == 403


async def test_htmx_requests_carry_the_token_in_a_header(client):
    await login(client, "admin")
    page = await client.get("/")
    token = client.cookies.get("csrftoken")
    # The page puts the token where htmx sends it with every request.
    assert f'"x-csrftoken": "{token}"' in page.text


async def test_sign_out_ends_the_session(client):
    await login(client, "grid1")
    response = await post_form(client, "/logout", {})
    assert response.status_code in (302, 303)
    assert (await client.get("/", follow_redirects=False)).headers["location"].startswith("/login")


async def test_after_sign_in_it_returns_to_the_page_asked_for_but_never_off_site(client):
    response = await post_form(
        client, "/login", {"username": "grid1", "password": "mediation-demo", "next": "/grids"}
    )
    assert response.headers["location"] == "/grids"
    response = await post_form(
        client,
        "/login",
        {"username": "grid1", "password": "mediation-demo", "next": "https://evil.example/"},
    )
    assert response.headers["location"] == "/"


async def test_reading_pages_does_not_rewrite_the_session(client, settings):
    await login(client, "grid1")
    # The file written last is this sign-in's session.
    files = list((settings.data_dir / "sessions").iterdir())
    session_file = max(files, key=lambda f: f.stat().st_mtime_ns)
    before = session_file.stat().st_mtime_ns
    for path in ("/", "/grids", "/cases"):
        assert (await client.get(path)).status_code == 200
    assert session_file.stat().st_mtime_ns == before
    # A change (switching language keeps the session; signing out ends it) still works.
    await post_form(client, "/logout", {})
    assert (await client.get("/", follow_redirects=False)).status_code in (302, 303)


async def test_a_disabled_account_is_named_only_to_whoever_knows_its_password(client):
    await Staff.update({Staff.active: False}).where(Staff.username == "grid24")
    right = await post_form(client, "/login", {"username": "grid24", "password": "mediation-demo"})
    assert right.status_code == 422
    page = text_of(right.text)
    assert "此账号已停用，请联系系统管理员重新启用" in page
    assert "用户名或密码不正确" not in page
    assert 'value="grid24"' in right.text
    assert (await client.get("/", follow_redirects=False)).status_code in (302, 303)
    assert await AuditEvent.exists().where(
        AuditEvent.action == "login_disabled", AuditEvent.detail == "grid24"
    )
    # A wrong password on the disabled account says nothing about the account.
    wrong = await post_form(client, "/login", {"username": "grid24", "password": "guess-guess"})
    assert wrong.status_code == 422
    assert "用户名或密码不正确" in wrong.text and "停用" not in wrong.text
