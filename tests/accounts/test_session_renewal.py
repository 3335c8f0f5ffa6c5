"""Session fixation: sign-in renews the session id; a password reset or a change of roles ends
the user's other sessions."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from mediation.accounts.services import forget_user, hash_password
from mediation.grid.tables import Staff
from tests.helpers import login, post_form

pytestmark = pytest.mark.anyio

PLANTED = "a" * 64


async def _staff_id(username: str) -> int:
    return (await Staff.select(Staff.id).where(Staff.username == username).first())["id"]


async def test_signing_in_gives_a_new_session_id_and_the_planted_one_stays_anonymous(app):
    async with AsyncTestClient(app) as victim:
        victim.cookies.set("msession", PLANTED, domain="testserver.local")
        # The planted id holds something, as an attacker's own session would.
        await victim.get("/suggest")
        await login(victim, "grid1")
        renewed = victim.cookies.get("msession")
        assert renewed and renewed != PLANTED
        assert (await victim.get("/cases", follow_redirects=False)).status_code == 200
    async with AsyncTestClient(app) as attacker:
        attacker.cookies.set("msession", PLANTED, domain="testserver.local")
        response = await attacker.get("/cases", follow_redirects=False)
        assert response.status_code in (302, 303)
        assert response.headers["location"].startswith("/login")


async def test_signing_out_drops_the_session_from_the_store(app):
    async with AsyncTestClient(app) as browser:
        await login(browser, "grid1")
        signed_in = browser.cookies.get("msession")
        await post_form(browser, "/logout", {})
    async with AsyncTestClient(app) as thief:
        thief.cookies.set("msession", signed_in, domain="testserver.local")
        response = await thief.get("/cases", follow_redirects=False)
        assert response.status_code in (302, 303)


async def test_a_password_reset_ends_the_users_other_sessions(app):
    staff_id = await _staff_id("grid5")
    before = (await Staff.select(Staff.password_hash).where(Staff.id == staff_id).first())[
        "password_hash"
    ]
    try:
        async with AsyncTestClient(app) as laptop, AsyncTestClient(app) as bystander:
            await login(laptop, "grid5")
            await login(bystander, "grid6")
            assert (await laptop.get("/cases", follow_redirects=False)).status_code == 200
            await Staff.update({Staff.password_hash: hash_password("a-new-password-123")}).where(
                Staff.id == staff_id
            )
            forget_user(staff_id)
            response = await laptop.get("/cases", follow_redirects=False)
            assert response.status_code in (302, 303)
            assert response.headers["location"].startswith("/login")
            assert (await bystander.get("/cases", follow_redirects=False)).status_code == 200
            await login(laptop, "grid5", "a-new-password-123")
            assert (await laptop.get("/cases", follow_redirects=False)).status_code == 200
    finally:
        await Staff.update({Staff.password_hash: before}).where(Staff.id == staff_id)
        forget_user(staff_id)


async def test_a_change_of_roles_ends_the_session_signed_in_with_the_old_ones(app):
    staff_id = await _staff_id("grid7")
    try:
        async with AsyncTestClient(app) as browser:
            await login(browser, "grid7")
            await Staff.update({Staff.roles: ["grid_worker", "centre_staff"]}).where(
                Staff.id == staff_id
            )
            forget_user(staff_id)
            response = await browser.get("/cases", follow_redirects=False)
            assert response.status_code in (302, 303)
    finally:
        await Staff.update({Staff.roles: ["grid_worker"]}).where(Staff.id == staff_id)
        forget_user(staff_id)
