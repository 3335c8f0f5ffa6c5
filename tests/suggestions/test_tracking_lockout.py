"""Wrong tracking secrets are counted per client address and receipt code, atomically: a burst
of simultaneous guesses never gets past the limit, someone else's guesses never lock the citizen
out, and a refusal says when to try again."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from litestar.testing import AsyncTestClient

from mediation.app import create_app
from mediation.suggestions import limits
from tests.helpers import csrf_token, ensure_csrf
from tests.suggestions.test_public import _file

pytestmark = pytest.mark.anyio
LIMIT = 10


@pytest.fixture
def by_header(monkeypatch):
    """The test client has one address; a header stands in for different client addresses."""
    monkeypatch.setattr(
        limits, "client_address", lambda request: request.headers.get("x-client", "testclient")
    )


def _app(settings):
    return create_app(
        dataclasses.replace(
            settings, public_rate_limit=10_000, extra={"track_failure_limit": LIMIT}
        )
    )


async def _guess(client, code: str, secret: str, who: str = "attacker"):
    return await client.post(
        "/track",
        data={"code": code, "secret": secret},
        headers={"x-csrftoken": csrf_token(client), "x-client": who},
    )


async def test_a_burst_of_a_hundred_simultaneous_guesses_gets_no_more_than_the_limit(
    settings, by_header
):
    async with AsyncTestClient(_app(settings)) as client:
        code, _secret = await _file(client)
        await ensure_csrf(client)
        answers = await asyncio.gather(*[_guess(client, code, f"{n:06d}") for n in range(100)])
    statuses = [a.status_code for a in answers]
    assert statuses.count(422) == LIMIT
    assert statuses.count(429) == 100 - LIMIT
    for answer in answers:
        if answer.status_code == 429:
            assert 0 < int(answer.headers["retry-after"]) <= limits.TRACK_WINDOW


async def test_someone_elses_wrong_guesses_do_not_lock_out_the_citizen(settings, by_header):
    async with AsyncTestClient(_app(settings)) as client:
        code, secret = await _file(client)
        await ensure_csrf(client)
        for n in range(LIMIT + 5):
            await _guess(client, code, f"{n:06d}")
        assert (await _guess(client, code, secret)).status_code == 429
        citizen = await _guess(client, code, secret, who="citizen")
        assert citizen.status_code == 200
        assert code in citizen.text


async def test_right_secrets_do_not_count_as_failures(settings, by_header):
    async with AsyncTestClient(_app(settings)) as client:
        code, secret = await _file(client)
        await ensure_csrf(client)
        for _ in range(LIMIT + 2):
            assert (await _guess(client, code, secret, who="citizen")).status_code == 200


async def test_a_locked_rating_answers_429_with_retry_after(settings, by_header):
    async with AsyncTestClient(_app(settings)) as client:
        code, _secret = await _file(client)
        await ensure_csrf(client)
        for n in range(LIMIT):
            await _guess(client, code, f"{n:06d}")
        response = await client.post(
            "/track/rate",
            data={"code": code, "secret": "000000", "rating": "satisfied"},
            headers={"x-csrftoken": csrf_token(client), "x-client": "attacker"},
        )
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) > 0


async def test_guesses_spread_over_many_addresses_meet_a_ceiling_per_code(settings, by_header):
    # Each address stays under its own limit, yet all of them together are capped per code.
    ceiling = limits.code_ceiling(
        dataclasses.replace(settings, extra={"track_failure_limit": LIMIT})
    )
    async with AsyncTestClient(_app(settings)) as client:
        code, _secret = await _file(client)
        await ensure_csrf(client)
        statuses = []
        for n in range(ceiling.max + 5):
            guess = await _guess(client, code, f"{n:06d}", who=f"addr{n // (LIMIT - 1)}")
            statuses.append(guess.status_code)
    assert statuses[: ceiling.max].count(422) == ceiling.max
    assert set(statuses[ceiling.max :]) == {429}
