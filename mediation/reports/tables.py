"""Tables of the reports domain: case figure rollups, warning rules and raised warnings."""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from mediation.grid.tables import Staff


class CaseStat(Table):
    """Case figures per county day × grid × category × colour × source × level × measure.

    A measure is something that happened to a case on a day (received, accepted, mediation
    started, settled, terminated, declined, closed, a prevention figure). Kept in step with the
    cases by ``mediation.reports.rollups`` in the same transaction as every case change.
    """

    id: Serial  # added by Piccolo; declared for the type checker

    key = Varchar(length=200, unique=True, help_text="All dimensions joined: the upsert target")
    day = Date(index=True, help_text="County (Beijing) date of the measure")
    measure = Varchar(length=24)
    region_path = Varchar(length=400, index=True, help_text="The grid's community path")
    grid = Integer()
    category = Varchar(length=32)
    colour = Varchar(length=8)
    source = Varchar(length=32)
    level = Varchar(length=16)
    days = Integer(default=-1, help_text="Days from registration, for concluded measures")
    detail = Varchar(length=16, default="", help_text="e.g. written or oral for settled")
    n = Integer(default=0, help_text="Cases")
    persons = Integer(default=0, help_text="Persons, for prevention figures")
    amount = Numeric(
        digits=(18, 2), default=Decimal("0"), help_text="Sum of amounts involved, yuan"
    )


class CaseRollup(Table):
    """Case figures per county month × region × measure × one dimension value.

    The sums of ``CaseStat`` rows coarsened for reading: a row per (month, region, measure,
    dimension, value) where the region is every level that contains the case's community (the
    root ``""``, the county, the town, the community), so a scope reads only its own rows, and
    the dimension is one of ``""`` (the total), category, colour, source, level, ``child`` (the
    region or grid one level down), ``form`` (written/oral), ``category_form`` and ``days``
    (registration to conclusion, for medians). Kept in step with ``CaseStat`` by
    ``mediation.reports.rollups`` in the same transaction.
    """

    id: Serial  # added by Piccolo; declared for the type checker

    key = Varchar(length=700, unique=True, help_text="All dimensions joined: the upsert target")
    month = Date(help_text="First county (Beijing) day of the month")
    region_path = Varchar(length=400, help_text="A region containing the case's community")
    measure = Varchar(length=24)
    dim = Varchar(length=16, default="", help_text="Which dimension value splits the sum")
    value = Varchar(length=64, default="")
    n = Integer(default=0, help_text="Cases")
    persons = Integer(default=0, help_text="Persons, for prevention figures")
    amount = Numeric(
        digits=(18, 2), default=Decimal("0"), help_text="Sum of amounts involved, yuan"
    )


class WarningRule(Table):
    """An early-warning rule's thresholds, editable by an administrator."""

    id: Serial  # added by Piccolo; declared for the type checker

    code = Varchar(length=32, unique=True)
    enabled = Boolean(default=True)
    params = JSON(default={}, help_text="Thresholds, e.g. {min_cases: 3, window_days: 90}")
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by = ForeignKey(Staff, null=True, default=None)


class EarlyWarning(Table):
    """A raised warning: which rule, why (in words), which cases, and what staff did about it."""

    id: Serial  # added by Piccolo; declared for the type checker

    rule = Varchar(length=32, index=True)
    subject = Varchar(length=200, help_text="What it is about: a digest, an address, a case…")
    fingerprint = Varchar(length=128, unique=True, help_text="Rule + subject: raised once")
    region_path = Varchar(length=400, index=True)
    colour = Varchar(length=8, default="yellow", help_text="red or yellow")
    reason = Text(help_text="The rule whose reason is shown, translated, with reason_args")
    reason_args = JSON(default={})
    case_ids = JSON(default=[])
    raised_at = Timestamptz(default=TimestamptzNow(), index=True)
    raised_on = Date()
    status = Varchar(
        length=16, default="open", index=True, help_text="open, acknowledged, dismissed"
    )
    handled_by = ForeignKey(Staff, null=True, default=None)
    handled_at = Timestamptz(null=True, default=None)
    handled_note = Text(default="")
