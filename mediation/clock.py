"""The county's clock: instants are aware UTC; every calendar date is the date in the county's zone.

A server's clock is UTC, the county lives in Beijing time: before 08:00 Beijing, ``.date()`` of a
UTC instant is the day before. Everything that shows, prints, exports or computes a calendar
date ("today", a deadline, a document's date) goes through ``local_date``/``local_today``.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

DEFAULT_TIME_ZONE = "Asia/Shanghai"


@cache
def county_zone() -> ZoneInfo:
    """The county's time zone (setting ``TIME_ZONE``, default Asia/Shanghai)."""
    return ZoneInfo(os.environ.get("TIME_ZONE") or DEFAULT_TIME_ZONE)


def utc_now() -> datetime:
    """The current instant, aware, in UTC (what is stored)."""
    return datetime.now(UTC)


def local_now() -> datetime:
    """The current instant as wall-clock time in the county."""
    return datetime.now(county_zone())


def local_today() -> date:
    """Today's date in the county, whatever the server's own zone."""
    return local_now().date()


def to_local(instant: datetime) -> datetime:
    """An instant as county wall-clock time; a naive value is taken to be UTC."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(county_zone())


def local_date(value: datetime | date) -> date:
    """The county's calendar date of an instant (a plain date is returned as it is)."""
    if isinstance(value, datetime):
        return to_local(value).date()
    return value
