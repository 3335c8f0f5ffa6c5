"""Tables of the parties' portal: a party's access code, the texts sent to parties, ratings."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from mediation.cases.tables import Case, Party
from mediation.grid.tables import Staff


class PartyAccess(Table):
    """A party's code and secret for /my-case; reissuing ends the old one (active = False)."""

    id: Serial  # added by Piccolo; declared for the type checker

    case = ForeignKey(Case, index=True)
    party = ForeignKey(Party, index=True)
    code = Varchar(length=24, unique=True, help_text="Printed on the slip, e.g. JF-2026-7K3Q9M")
    secret_encrypted = Text(
        secret=True, help_text="The 6-digit secret, encrypted with FIELD_KEY so it can be reprinted"
    )
    active = Boolean(default=True)
    issued_at = Timestamptz(default=TimestamptzNow())
    issued_by = ForeignKey(Staff, null=True, default=None)


class PartyMessage(Table):
    """A short text for one party (SMS-ready), as handed to the configured message backend."""

    id: Serial  # added by Piccolo; declared for the type checker

    case = ForeignKey(Case, index=True)
    party = ForeignKey(Party, index=True)
    event = Varchar(length=32, help_text="accepted, session_scheduled, agreement_issued, closed…")
    phone_masked = Varchar(length=32, default="")
    text = Text()
    backend = Varchar(length=64, default="log")
    status = Varchar(length=16, default="sent", help_text="sent or failed")
    created_at = Timestamptz(default=TimestamptzNow())


class CaseRating(Table):
    """A party's rating of the mediation once the case is closed: one per party."""

    id: Serial  # added by Piccolo; declared for the type checker

    case = ForeignKey(Case, index=True)
    party = ForeignKey(Party, unique=True)
    rating = Varchar(length=16, help_text="satisfied, basically_satisfied or not_satisfied")
    comment = Text(default="")
    rated_at = Timestamptz(default=TimestamptzNow())
