from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.querystring import QueryString

ID = "2026-11-30T00:20:18:384682"
VERSION = "1.38.0"
DESCRIPTION = "Existing parties: legal representative, agent, credit code, birth date, gender"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def _basic_information():
        """Existing parties: an organisation's representative is its legal representative and
        its "ID number" its credit code; a person's representative is an agent; a person's
        birth date and gender come from the ID number."""
        from piccolo.engine import engine_finder

        from mediation import crypto
        from mediation.cases.parties import (
            birth_date_from_id,
            gender_from_id,
            looks_like_credit_code,
        )

        engine = engine_finder()
        await engine.run_querystring(
            QueryString(
                "UPDATE party SET legal_rep = representative "
                "WHERE kind = 'organisation' AND legal_rep = '' AND representative <> ''"
            )
        )
        await engine.run_querystring(
            QueryString(
                "UPDATE party SET agent_name = representative "
                "WHERE kind <> 'organisation' AND agent_name = '' AND representative <> ''"
            )
        )
        rows = await engine.run_querystring(
            QueryString(
                "SELECT id, kind, id_number_encrypted FROM party "
                "WHERE id_number_encrypted <> '' AND credit_code = '' AND birth_date IS NULL"
            )
        )
        for row in rows:
            number = crypto.decrypt(row["id_number_encrypted"])
            if not number:
                continue
            if row["kind"] == "organisation":
                if looks_like_credit_code(number):
                    await engine.run_querystring(
                        QueryString(
                            "UPDATE party SET credit_code = {} WHERE id = {}",
                            number.upper(),
                            row["id"],
                        )
                    )
                continue
            born = birth_date_from_id(number)
            if born is not None:
                await engine.run_querystring(
                    QueryString(
                        "UPDATE party SET birth_date = {}, gender = {} WHERE id = {}",
                        born,
                        gender_from_id(number),
                        row["id"],
                    )
                )

    manager.add_raw(_basic_information)

    return manager
