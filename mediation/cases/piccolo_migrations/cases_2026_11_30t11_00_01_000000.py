"""Judge the existing cases' clocks once (``cases.ontime``), as the dashboard judged them until
now: the clocks from the deadline policy and working-day calendar in force. Where the figure
rollups are kept already, the cases' share of the new on-time figures is added to them (where
they are not, the first start builds them whole).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T11:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Judge whether existing cases finished their clocks in time"


async def _judge_existing_cases() -> None:
    from mediation.cases.ontime import refresh_on_time
    from mediation.cases.tables import Case
    from mediation.reports.tables import CaseStat

    if not await Case.exists():
        return
    kept = await CaseStat.table_exists() and await CaseStat.exists()
    await refresh_on_time(move_rollups=kept)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(_judge_existing_cases)
    return manager
