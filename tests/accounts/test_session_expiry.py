"""Sliding session expiry: activity extends a session up to an absolute cap; an unattended
page's notification poll does not keep it alive; the page is told how long is left."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from mediation.app import create_app
from mediation.clock import utc_now
from tests.helpers import login, post_form

pytestmark = pytest.mark.anyio

IDLE = 2 * 3600
CAP = 12 * 3600


@pytest.fixture
def short_app(settings):
    return create_app(dataclasses.replace(settings, session_idle=IDLE, session_max_age=CAP))


async def _signed_in(browser) -> bool:
    response = await browser.get("/cases/mine", follow_redirects=False)
    return response.status_code == 200


async def test_activity_extends_the_session_and_idleness_ends_it(short_app):
    start = utc_now()
    with time_machine.travel(start, tick=False) as clock:
        async with AsyncTestClient(short_app) as browser:
            await login(browser, "grid1")
            page = await browser.get("/cases/mine")
            assert page.headers["x-session-left"] == str(IDLE)
            assert f'data-session-left="{IDLE}"' in page.text
            assert 'data-session-warn="300"' in page.text
            # Active every 100 minutes for five hours: well past one idle time.
            for _ in range(3):
                clock.shift(timedelta(minutes=100))
                assert await _signed_in(browser)
            clock.shift(timedelta(seconds=IDLE - 1))
            left = (await browser.get("/cases/mine")).headers["x-session-left"]
            assert int(left) == IDLE  # that request was activity too
            clock.shift(timedelta(seconds=IDLE))
            response = await browser.get("/cases/mine", follow_redirects=False)
            assert response.status_code in (302, 303)
            assert response.headers["location"] == "/login?next=/cases/mine"
            # Ended for good: a later request does not bring it back.
            assert not await _signed_in(browser)


async def test_the_absolute_cap_ends_even_an_active_session(short_app):
    start = utc_now()
    with time_machine.travel(start, tick=False) as clock:
        async with AsyncTestClient(short_app) as browser:
            await login(browser, "grid2")
            for _ in range(11):
                clock.shift(timedelta(hours=1))
                assert await _signed_in(browser)
            left = int((await browser.get("/cases/mine")).headers["x-session-left"])
            assert left == 3600  # the cap, not the idle time, is what is left
            clock.shift(timedelta(hours=1))
            assert not await _signed_in(browser)


async def test_the_notification_poll_is_not_activity(short_app):
    start = utc_now()
    with time_machine.travel(start, tick=False) as clock:
        async with AsyncTestClient(short_app) as browser:
            await login(browser, "grid3")
            for _ in range(7):  # an unattended tab polls every minute... here every 20 min
                clock.shift(timedelta(minutes=20))
                poll = await browser.get(
                    "/notifications/count", headers={"x-background": "1", "hx-request": "true"}
                )
                if poll.status_code != 200:
                    break
            assert poll.status_code == 401  # the session ended while only the poll ran
            assert not await _signed_in(browser)


async def test_stay_signed_in_starts_the_idle_time_again(short_app):
    start = utc_now()
    with time_machine.travel(start, tick=False) as clock:
        async with AsyncTestClient(short_app) as browser:
            await login(browser, "grid4")
            clock.shift(timedelta(seconds=IDLE - 200))  # the warning is showing
            ping = await post_form(browser, "/session/ping", {}, headers={"hx-request": "true"})
            assert ping.status_code == 200 and ping.json()["left"] == IDLE
            assert ping.headers["x-session-left"] == str(IDLE)
            clock.shift(timedelta(seconds=IDLE - 200))
            assert await _signed_in(browser)


async def test_a_form_posted_after_the_end_leads_back_to_its_page_after_sign_in(short_app):
    start = utc_now()
    with time_machine.travel(start, tick=False) as clock:
        async with AsyncTestClient(short_app) as browser:
            await login(browser, "grid5")
            clock.shift(timedelta(seconds=IDLE + 1))
            response = await post_form(
                browser,
                "/cases/1/follow-ups",
                {"note": "x"},
                headers={"referer": "http://testserver.local/cases/1?tab=a"},
            )
            assert response.status_code in (302, 303)
            assert response.headers["location"] == "/login?next=/cases/1%3Ftab%3Da"
            # Another site's page is never a destination.
            response = await post_form(
                browser,
                "/cases/1/follow-ups",
                {"note": "x"},
                headers={"referer": "http://evil.example/cases/1"},
            )
            assert response.headers["location"] == "/login?next=/"
