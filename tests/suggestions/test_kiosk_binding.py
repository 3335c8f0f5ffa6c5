"""A binding link works once: the first tablet exchanges it for its own device token, any later
opening is refused, and the link itself never opens the kiosk."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from mediation.suggestions import services
from mediation.suggestions.tables import DirectReportPoint
from tests.helpers import post_form
from tests.suggestions.test_public import _bind, _bound_point

pytestmark = pytest.mark.anyio


async def test_a_second_tablet_opening_the_link_is_refused(app):
    _point_id, link = await _bound_point("梅园社区直报点")
    async with AsyncTestClient(app) as first, AsyncTestClient(app) as second:
        response = await _bind(first, link)
        device = first.cookies.get("kiosk_token")
        assert device and device != link
        refused = await post_form(second, f"/kiosk/bind/{link}", {})
        assert refused.status_code == 403
        assert "kiosk_token" not in refused.headers.get("set-cookie", "")
        assert "链接只能使用一次" in refused.text
        assert (await second.get("/kiosk")).status_code == 403
        assert response.status_code == 303
        assert (await first.get("/kiosk")).status_code == 200


async def test_the_link_itself_is_not_a_device_credential(app):
    _point_id, link = await _bound_point()
    async with AsyncTestClient(app) as tablet, AsyncTestClient(app) as copier:
        await _bind(tablet, link)
        copier.cookies.set("kiosk_token", link, path="/kiosk")
        assert (await copier.get("/kiosk")).status_code == 403


async def test_twenty_tablets_opening_the_link_at_once_bind_exactly_one():
    _point_id, link = await _bound_point()
    tokens = await asyncio.gather(*[services.exchange_bind_token(link) for _ in range(20)])
    granted = [t for t in tokens if t]
    assert len(granted) == 1
    assert await services.point_for_token(granted[0]) is not None


async def test_a_link_older_than_a_day_is_refused():
    point_id, link = await _bound_point()
    await DirectReportPoint.update(
        {
            DirectReportPoint.bind_issued_at: datetime.now().astimezone()
            - timedelta(hours=services.BIND_LINK_HOURS, minutes=1)
        }
    ).where(DirectReportPoint.id == point_id)
    assert await services.exchange_bind_token(link) is None
