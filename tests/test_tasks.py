"""The sweep runs once at a time, however many servers (or command lines) start it."""

from __future__ import annotations

import asyncio

import pytest

from mediation.tasks import run_sweep, sweep_lock

pytestmark = pytest.mark.anyio


async def test_a_sweep_started_while_another_runs_does_nothing():
    # On PostgreSQL the lock is held on its own connection, exactly as another server's would be.
    async with sweep_lock() as acquired:
        assert acquired
        assert await run_sweep() is None
    assert await run_sweep() is not None


async def test_two_sweeps_started_together_run_once():
    results = await asyncio.gather(run_sweep(), run_sweep())
    assert sorted(result is None for result in results) == [False, True]
