"""Freeze the parties printed on each issued agreement.

An issued agreement's hash stands for the parties as printed; until now they were read from the
case each time, so correcting a party afterwards broke /verify. Existing issued agreements get
their parties as they stand now (what their stored hash was computed from).
"""

import json
from datetime import date

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Date, Integer, Text, Varchar
from piccolo.table import Table

ID = "2026-11-30T03:46:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Agreement.parties_snapshot, back-filled for issued agreements"

FIELDS = (
    "id",
    "role",
    "kind",
    "name",
    "id_number_masked",
    "phone",
    "address",
    "gender",
    "ethnicity",
    "birth_date",
    "occupation",
    "credit_code",
    "legal_rep",
    "legal_rep_title",
    "agent_name",
    "agent_relation",
)


class Agreement(Table, tablename="agreement"):
    case = Integer()
    content_hash = Varchar(length=64)
    parties_snapshot = Text()


class Party(Table, tablename="party"):
    case = Integer()
    role = Varchar(length=16)
    kind = Varchar(length=16)
    name = Varchar(length=100)
    id_number_masked = Varchar(length=32)
    phone = Varchar(length=32)
    address = Varchar(length=200)
    gender = Varchar(length=8)
    ethnicity = Varchar(length=20)
    birth_date = Date(null=True)
    occupation = Varchar(length=100)
    credit_code = Varchar(length=18)
    legal_rep = Varchar(length=50)
    legal_rep_title = Varchar(length=50)
    agent_name = Varchar(length=50)
    agent_relation = Varchar(length=100)


async def _back_fill() -> None:
    issued = await Agreement.select(Agreement.id, Agreement.case).where(
        Agreement.content_hash != "", Agreement.parties_snapshot == ""
    )
    for agreement in issued:
        parties = (
            await Party.select(*[getattr(Party, f) for f in FIELDS])
            .where(Party.case == agreement["case"])
            .order_by(Party.id)
        )
        for p in parties:
            if isinstance(p["birth_date"], date):
                p["birth_date"] = p["birth_date"].isoformat()
        await Agreement.update(
            {Agreement.parties_snapshot: json.dumps(parties, ensure_ascii=False)}
        ).where(Agreement.id == agreement["id"])


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(_back_fill)
    return manager
