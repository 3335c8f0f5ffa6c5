"""The county's clock: instants are aware UTC; every calendar date is the date in the county's zone.

A server's clock is UTC, the county lives in Beijing time: before 08:00 Beijing, ``.date()`` of a
UTC instant is the day before. Everything that shows, prints, exports or computes a calendar
date ("today", a deadline, a document's date) goes through ``local_date``/``local_today``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

DEFAULT_TIME_ZONE = "Asia/Shanghai"


@cache
def county_zone() -> ZoneInfo:
    """The county's time zone (setting ``TIME_ZONE``, default Asia/Shanghai)."""
    return ZoneInfo(os.environ.get("TIME_ZONE") or DEFAULT_TIME_ZONE)


# Work done for a request in another process (a print job) runs at the instant the request
# was made: a document asked for at 23:59 is dated that day, whenever the job gets the CPU.
_pinned: ContextVar[datetime | None] = ContextVar("pinned_now", default=None)


@contextmanager
def pinned_at(instant: datetime) -> Iterator[None]:
    """Within the block (and tasks started in it), "now" is ``instant`` (aware)."""
    token = _pinned.set(instant)
    try:
        yield
    finally:
        _pinned.reset(token)


def utc_now() -> datetime:
    """The current instant, aware, in UTC (what is stored)."""
    pinned = _pinned.get()
    return datetime.now(UTC) if pinned is None else pinned.astimezone(UTC)


def local_now() -> datetime:
    """The current instant as wall-clock time in the county."""
    pinned = _pinned.get()
    return datetime.now(county_zone()) if pinned is None else pinned.astimezone(county_zone())


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
