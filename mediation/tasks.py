"""Background work inside the app process: the periodic deadline sweep."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from typing import Any

logger = logging.getLogger("mediation.tasks")
SWEEP_INTERVAL_SECONDS = 15 * 60


async def _sweep_forever(interval: float) -> None:
    from mediation.cases.services import sweep_deadlines
    from mediation.suggestions.services import sweep_suggestions

    while True:
        try:
            report = await sweep_deadlines()
            await sweep_suggestions()
            logger.info(
                "deadline sweep: %s checked, %s newly overdue, %s escalated",
                report.checked,
                report.newly_overdue,
                report.escalated,
            )
        except Exception:  # a failed sweep must not stop the next one
            logger.exception("deadline sweep failed")
        await asyncio.sleep(interval)


async def _warm_up_printing() -> None:
    """The first print job after a start pays font set-up (~0.5 s); pay it before anyone waits."""
    import anyio

    from mediation.documents.pdf import warm_up

    try:
        await anyio.to_thread.run_sync(warm_up)
    except Exception:
        logger.exception("print warm-up failed")


def sweep_lifespan(enabled: bool, interval: float = SWEEP_INTERVAL_SECONDS):
    """The sweep is safe on several servers at once (conditional updates), so each may run it."""

    @asynccontextmanager
    async def lifespan(_: Any):
        tasks = []
        if enabled:
            tasks.append(asyncio.create_task(_sweep_forever(interval)))
            tasks.append(asyncio.create_task(_warm_up_printing()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task

    return lifespan
