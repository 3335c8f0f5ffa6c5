"""Organisation and grid: regions, grids and their teams, staff, mediators, reference data."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Array,
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

REGION_LEVELS = ("county", "town", "community")


class Region(Table):
    """County (县/市/区) → town/subdistrict (镇/街道) → village/community (村/社区)."""

    id: Serial  # added by Piccolo; declared for the type checker

    code = Varchar(length=32, unique=True, help_text="Administrative division code")
    name = Varchar(length=100)
    level = Varchar(length=16, help_text="county, town or community")
    parent: ForeignKey[Region] = ForeignKey("self", null=True, default=None)
    path = Varchar(
        length=400,
        index=True,
        help_text="Codes from the root, '/'-joined with a trailing '/': scoping by prefix",
    )


class Department(Table):
    """承办单位: a body that handles suggestions routed to it."""

    id: Serial  # added by Piccolo; declared for the type checker

    code = Varchar(length=32, unique=True)
    name = Varchar(length=100)
    region = ForeignKey(Region, null=True, default=None)
    contact = Varchar(length=100, default="")
    active = Boolean(default=True)


class Staff(Table):
    """A user account with roles and a home region: they see that region's subtree."""

    id: Serial  # added by Piccolo; declared for the type checker

    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=64)
    password_hash = Varchar(length=255, secret=True)
    roles = Array(base_column=Varchar(length=32), help_text="Subset of ROLES")
    region = ForeignKey(Region, null=True, default=None, help_text="Home region")
    department = ForeignKey(Department, null=True, default=None, help_text="For handlers")
    phone = Varchar(length=32, default="")
    locale = Varchar(length=8, default="", help_text="Preferred UI locale; empty = default")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Grid(Table):
    """网格: part of a village/community, optionally aligned to a police beat (警格)."""

    id: Serial  # added by Piccolo; declared for the type checker

    code = Varchar(length=32, unique=True)
    name = Varchar(length=100)
    region = ForeignKey(Region, help_text="The village/community the grid belongs to")
    boundary = Text(default="", help_text="Boundary description")
    police_beat = Varchar(length=100, default="", help_text="警格 name, if aligned")


class TeamMember(Table):
    """One person on a grid's team (警网融合): grid workers and the community police officer."""

    id: Serial  # added by Piccolo; declared for the type checker

    grid = ForeignKey(Grid)
    staff = ForeignKey(Staff)
    role = Varchar(length=16, help_text="grid_worker or police")


class Mediator(Table):
    """A mediator's profile: what they are good at and how much they can take on."""

    id: Serial  # added by Piccolo; declared for the type checker

    staff = ForeignKey(Staff, unique=True)
    skills = Array(base_column=Varchar(length=32), help_text="Dispute category codes")
    dialects = Array(base_column=Varchar(length=32), help_text="Dialects/languages spoken")
    available = Boolean(default=True)
    max_cases = Integer(default=5, help_text="Maximum concurrent cases")
    organisation = Varchar(length=100, default="")
    related_persons = JSON(
        default=[], help_text="People the mediator is related to: [{name, id_number, phone}]"
    )


class DisputeCategory(Table):
    """Reference list of dispute categories used in statistics (editable)."""

    id: Serial  # added by Piccolo; declared for the type checker

    code = Varchar(length=32, unique=True)
    name_zh = Varchar(length=50)
    name_en = Varchar(length=80)
    sort_order = Integer(default=0)
    active = Boolean(default=True)


class AuditEvent(Table):
    """Append-only record of admin changes and sign-ins: who, when, what, before → after."""

    id: Serial  # added by Piccolo; declared for the type checker

    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor = ForeignKey(Staff, null=True, default=None)
    action = Varchar(length=64)
    entity = Varchar(length=32, default="")
    entity_id = Varchar(length=64, default="")
    before = JSON(default={})
    after = JSON(default={})
    detail = Text(default="")


class FieldKeyCheck(Table):
    """A check value of the key that encrypts personal data: the app refuses to start when the
    configured key does not produce it (a wrong or lost FIELD_KEY would otherwise read nothing
    and encrypt new records under the wrong key)."""

    id: Serial  # added by Piccolo; declared for the type checker

    name = Varchar(length=32, unique=True, help_text="Which key: 'field_key'")
    check_value = Varchar(length=64, help_text="HMAC of a fixed text under the key")
    created_at = Timestamptz(default=TimestamptzNow())
    rotated_at = Timestamptz(null=True, default=None)
