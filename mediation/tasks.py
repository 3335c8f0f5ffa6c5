"""Background work inside the app process: the periodic deadline sweep."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from typing import Any

logger = logging.getLogger("mediation.tasks")
SWEEP_INTERVAL_SECONDS = 15 * 60


async def sweep_all() -> str:
    """One pass of every sweep (cases, agreements, suggestions); returns a one-line summary."""
    from mediation.cases.agreements import sweep_agreements
    from mediation.cases.services import sweep_deadlines
    from mediation.suggestions.services import sweep_suggestions

    cases = await sweep_deadlines()
    agreements = await sweep_agreements()
    late_suggestions = await sweep_suggestions()
    return (
        f"Checked {cases.checked} open cases: {cases.newly_overdue} newly overdue, "
        f"{cases.escalated} escalated; {agreements.clauses_overdue} agreement clauses newly "
        f"overdue, {agreements.confirmation_reminders} judicial-confirmation reminders; "
        f"{late_suggestions} suggestions newly overdue."
    )


async def prune_sessions(app: Any) -> None:
    """Delete expired session files (Redis expires its keys by itself)."""
    from litestar.stores.file import FileStore

    store = app.stores.get("sessions")
    if isinstance(store, FileStore):
        await store.delete_expired()


async def _sweep_forever(interval: float, app: Any) -> None:
    while True:
        try:
            logger.info("sweep: %s", await sweep_all())
        except Exception:  # a failed sweep must not stop the next one
            logger.exception("deadline sweep failed")
        try:
            await prune_sessions(app)
        except Exception:
            logger.exception("pruning expired sessions failed")
        await asyncio.sleep(interval)


async def _warm_up_printing() -> None:
    """The first print job after a start pays font set-up (~0.5 s); pay it before anyone waits."""
    import os

    import anyio

    from mediation.documents.pdf import print_pool, print_workers, warm_up

    try:
        pool = print_pool()
        if pool is None:
            await anyio.to_thread.run_sync(warm_up)
        else:
            # Starting the printing processes runs their warm-up.
            loop = asyncio.get_running_loop()
            await asyncio.gather(
                *(loop.run_in_executor(pool, os.getpid) for _ in range(print_workers()))
            )
    except Exception:
        logger.exception("print warm-up failed")


def sweep_lifespan(enabled: bool, interval: float = SWEEP_INTERVAL_SECONDS):
    """The sweep is safe on several servers at once (conditional updates), so each may run it."""

    @asynccontextmanager
    async def lifespan(app: Any):
        tasks = []
        if enabled:
            tasks.append(asyncio.create_task(_sweep_forever(interval, app)))
            tasks.append(asyncio.create_task(_warm_up_printing()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task

    return lifespan
