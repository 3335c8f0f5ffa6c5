"""Fixed-window limits on the public forms (per client address, per direct-report point).

No CAPTCHA stands between a citizen and the suggestion form, so robots are slowed down here
instead: a count per key and window, kept in the app's "rate_limit" store (memory on one
process, Redis when several share the load), forgotten when the window ends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from litestar.stores.base import Store

# A kiosk is one tablet in a community hall: even a queue of citizens files fewer than this.
POINT_SUBMISSIONS = 30
POINT_WINDOW = 600
# Wrong secrets for one receipt code before it is locked for the rest of the hour: six digits
# are a million guesses, so ten an hour makes guessing hopeless.
TRACK_FAILURES = 10
TRACK_WINDOW = 3600


@dataclass(frozen=True)
class Limit:
    name: str
    max: int
    window: int  # seconds


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window ends


def address_limit(settings: Any) -> Limit:
    return Limit("address", max(int(settings.public_rate_limit), 1), 60)


def point_limit(settings: Any) -> Limit:
    return Limit(
        "point", int(settings.extra.get("point_rate_limit", POINT_SUBMISSIONS)), POINT_WINDOW
    )


def track_failure_limit(settings: Any) -> Limit:
    return Limit(
        "track-code", int(settings.extra.get("track_failure_limit", TRACK_FAILURES)), TRACK_WINDOW
    )


def _window(limit: Limit, key: str, now: float) -> tuple[str, int]:
    start = int(now // limit.window) * limit.window
    return f"public:{limit.name}:{key}:{start}", max(start + limit.window - int(now), 1)


async def count(store: Store, limit: Limit, key: str, now: float | None = None) -> int:
    """How many attempts ``key`` has made in the current window."""
    store_key, _left = _window(limit, key, time.time() if now is None else now)
    raw = await store.get(store_key)
    return int(raw) if raw else 0


async def hit(store: Store, limit: Limit, key: str, now: float | None = None) -> Verdict:
    """Count one attempt; refused (and not counted) once the window's allowance is used.

    Read-then-write, like Litestar's own rate-limit middleware: two simultaneous requests
    may both pass at the edge of the limit, which is fine for slowing robots down.
    """
    store_key, left = _window(limit, key, time.time() if now is None else now)
    raw = await store.get(store_key)
    used = int(raw) if raw else 0
    if used >= limit.max:
        return Verdict(False, left)
    await store.set(store_key, str(used + 1), expires_in=left)
    return Verdict(True, left)


def client_address(request: Any) -> str:
    """The client's address as the ASGI server saw it (behind a proxy, let uvicorn's
    --proxy-headers with --forwarded-allow-ips set it from X-Forwarded-For)."""
    return request.client.host if request.client else "unknown"


def store_of(request: Any) -> Store:
    return request.app.stores.get("rate_limit")
