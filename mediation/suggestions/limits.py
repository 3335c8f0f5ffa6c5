"""Fixed-window limits on the public forms (per client address, per direct-report point).

No CAPTCHA stands between a citizen and the suggestion form, so robots are slowed down here
instead: a count per key and window, kept in the app's "rate_limit" store (memory on one
process, Redis when several share the load), forgotten when the window ends.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from typing import Any

from litestar.stores.base import Store
from litestar.stores.redis import RedisStore

# A kiosk is one tablet in a community hall: even a queue of citizens files fewer than this.
POINT_SUBMISSIONS = 30
POINT_WINDOW = 600
# Wrong secrets for one receipt code from one client address before that client is locked out
# of that code for the rest of the hour: six digits are a million guesses, so ten an hour makes
# guessing hopeless, and someone else's guesses never lock out the citizen who holds the secret.
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


def code_ceiling(settings: Any) -> Limit:
    """Wrong secrets for one code from all addresses together: a ceiling on guessing spread
    over many addresses, high enough that strangers' guesses rarely lock out the holder."""
    failures = track_failure_limit(settings)
    return Limit("code-ceiling", failures.max * 10, failures.window)


def _window(limit: Limit, key: str, now: float) -> tuple[str, int]:
    start = int(now // limit.window) * limit.window
    return f"public:{limit.name}:{key}:{start}", max(start + limit.window - int(now), 1)


_memory_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


async def _add(store: Store, key: str, amount: int, expires_in: int) -> int:
    """Add ``amount`` to the counter at ``key`` and return the new value, atomically: Redis
    increments in one command; the in-process store is read and written under a lock, so a
    burst of simultaneous requests cannot all read the same old count."""
    if isinstance(store, RedisStore):
        name = store._make_key(key)  # noqa: SLF001 - the namespaced key, as the store writes it
        async with store._redis.pipeline(transaction=True) as pipe:  # noqa: SLF001
            pipe.incrby(name, amount)
            pipe.expire(name, expires_in, nx=True)
            value, _ = await pipe.execute()
        return int(value)
    loop = asyncio.get_running_loop()
    lock = _memory_locks.get(loop)
    if lock is None:
        lock = _memory_locks[loop] = asyncio.Lock()
    async with lock:
        raw = await store.get(key)
        value = (int(raw) if raw else 0) + amount
        await store.set(key, str(value), expires_in=expires_in)
        return value


async def count(store: Store, limit: Limit, key: str, now: float | None = None) -> int:
    """How many attempts ``key`` has made in the current window."""
    store_key, _left = _window(limit, key, time.time() if now is None else now)
    raw = await store.get(store_key)
    return int(raw) if raw else 0


async def hit(store: Store, limit: Limit, key: str, now: float | None = None) -> Verdict:
    """Count one attempt; refused once the window's allowance is used. The attempt is counted
    before it is judged, in one atomic step, so simultaneous requests never overshoot."""
    store_key, left = _window(limit, key, time.time() if now is None else now)
    used = await _add(store, store_key, 1, left)
    return Verdict(used <= limit.max, left)


async def give_back(store: Store, limit: Limit, key: str, now: float | None = None) -> None:
    """Un-count an attempt that turned out not to count (a right secret is no failure)."""
    store_key, left = _window(limit, key, time.time() if now is None else now)
    await _add(store, store_key, -1, left)


def client_address(request: Any) -> str:
    """The client's address as the ASGI server saw it (behind a proxy, let uvicorn's
    --proxy-headers with --forwarded-allow-ips set it from X-Forwarded-For)."""
    return request.client.host if request.client else "unknown"


def store_of(request: Any) -> Store:
    return request.app.stores.get("rate_limit")


async def guard_code_lookup(request: Any, scope: str, code: str) -> Verdict:
    """One lookup with a public code and secret (``scope``: "track", "my-case").

    Per address every lookup counts; per address and code only wrong secrets do, so someone
    else's guesses never lock out the person who holds the secret. The lookup is counted as a
    failure before the secret is checked (``right_secret`` gives it back), so a burst of
    simultaneous guesses cannot all pass the check at once."""
    settings = request.app.state.settings
    store = store_of(request)
    address = client_address(request)
    verdict = await hit(store, address_limit(settings), f"{scope}:{address}")
    if verdict.allowed and code:
        verdict = await hit(store, track_failure_limit(settings), f"{scope}:{address}:{code}")
    if verdict.allowed and code:
        verdict = await hit(store, code_ceiling(settings), f"{scope}:{code}")
    return verdict


async def right_secret(request: Any, scope: str, code: str) -> None:
    """The secret was right: the lookup is no failure after all."""
    if code:
        settings = request.app.state.settings
        key = f"{scope}:{client_address(request)}:{code}"
        await give_back(store_of(request), track_failure_limit(settings), key)
        await give_back(store_of(request), code_ceiling(settings), f"{scope}:{code}")
