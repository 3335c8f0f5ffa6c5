"""Tables of the suggestions domain: direct-report points, topics, suggestions, their timeline."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from mediation.cases.tables import Case
from mediation.grid.tables import Department, Region, Staff


class DirectReportPoint(Table):
    """人民建议征集直报点: a kiosk tablet in a community hall, bound by a revocable device token."""

    id: Serial  # added by Piccolo; declared for the type checker

    code = Varchar(length=32, unique=True)
    name = Varchar(length=100)
    region = ForeignKey(Region, null=True, default=None)
    address = Varchar(length=200, default="")
    opening_hours = Varchar(length=200, default="", help_text="开放时间, as shown to citizens")
    host_organisation = Varchar(length=100, default="", help_text="承办单位 that runs the point")
    contact_name = Varchar(length=50, default="", help_text="联系人")
    contact_phone = Varchar(length=20, default="", help_text="联系电话 of the point (public)")
    active = Boolean(default=True)
    device_token_digest = Varchar(length=64, default="", index=True, secret=True)
    token_issued_at = Timestamptz(null=True, default=None)
    bind_token_digest = Varchar(
        length=64,
        default="",
        index=True,
        secret=True,
        help_text="One-time binding link, exchanged for the device token on first use",
    )
    bind_issued_at = Timestamptz(null=True, default=None)


class SuggestionTopic(Table):
    """专项征集: a thematic call for suggestions with a closing date."""

    id: Serial  # added by Piccolo; declared for the type checker

    title = Varchar(length=100)
    description = Text(default="")
    opens_on = Date()
    closes_on = Date()
    published = Boolean(default=True)
    created_by = ForeignKey(Staff, null=True, default=None)


class Suggestion(Table):
    """人民建议: what a citizen proposes, and everything that happens to it."""

    id: Serial  # added by Piccolo; declared for the type checker

    tracking_code = Varchar(length=20, unique=True)
    secret_digest = Varchar(length=64, secret=True)
    channel = Varchar(length=24)
    point = ForeignKey(DirectReportPoint, null=True, default=None)
    call = ForeignKey(SuggestionTopic, null=True, default=None, help_text="Thematic collection")
    title = Varchar(length=100, help_text="建议主题")
    reason = Text(help_text="主要事由")
    measures = Text(help_text="对策建议")
    proposer_name = Varchar(length=50, default="")
    proposer_phone = Varchar(length=20, default="")
    proposer_email = Varchar(length=254, default="", help_text="Never published")
    account_id = Varchar(
        length=100, default="", help_text="The proposer's account at an Open311 client; private"
    )
    reply_by_phone = Boolean(default=False)
    confidential = Boolean(default=False, help_text="Identity never shown to the department")
    consent_to_publish = Boolean(default=False)
    category = Varchar(length=32, default="")
    region = ForeignKey(Region, null=True, default=None, help_text="Area the suggestion is about")
    region_path = Varchar(length=400, default="", index=True)
    address = Varchar(length=250, default="", help_text="Where it is, most specific first")
    address_id = Varchar(length=64, default="", help_text="Open311 address_id as given")
    lat = DoublePrecision(null=True, default=None, help_text="WGS84 latitude")
    long = DoublePrecision(null=True, default=None, help_text="WGS84 longitude")
    media_url = Text(default="", help_text="A link to media an Open311 client sent")
    status = Varchar(length=16, default="received", index=True)
    department = ForeignKey(Department, null=True, default=None, index=True)
    outcome = Varchar(length=16, default="")
    reply_text = Text(default="")
    replied_at = Timestamptz(null=True, default=None)
    rating = Varchar(length=24, default="")
    times_reopened = Integer(default=0)
    reward_tier = Varchar(length=16, default="")
    group_leader: ForeignKey[Suggestion] = ForeignKey(
        "self", null=True, default=None, help_text="Grouped with"
    )
    case = ForeignKey(Case, null=True, default=None, help_text="Turned into this dispute case")
    received_on = Date(index=True)
    route_due = Date()
    conclude_due = Date()
    extension_days = Integer(default=0)
    extensions = Integer(default=0)
    overdue = Boolean(default=False, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=1)
    # Unique, through an index of its migration: SQLite cannot add a UNIQUE column to a table.
    idempotency_key = Varchar(
        length=64,
        null=True,
        default=None,
        secret=True,
        help_text="SHA-256 of the key the web form carried: the same form sent twice files once",
    )


class SuggestionEvent(Table):
    """Timeline of a suggestion; ``public`` steps are shown to the citizen on the tracking page."""

    id: Serial  # added by Piccolo; declared for the type checker

    suggestion = ForeignKey(Suggestion, index=True)
    at = Timestamptz(default=TimestamptzNow())
    actor = ForeignKey(Staff, null=True, default=None)
    action = Varchar(length=24)
    from_status = Varchar(length=16, default="")
    to_status = Varchar(length=16, default="")
    note = Text(default="")
    public = Boolean(default=True)


class SuggestionPhoto(Table):
    """A photo handed in with a suggestion: re-encoded without metadata, stored on disk."""

    id: Serial  # added by Piccolo; declared for the type checker

    suggestion = ForeignKey(Suggestion, index=True)
    content_type = Varchar(length=32)
    size = Integer()
    width = Integer()
    height = Integer()
    sha256 = Varchar(length=64)
    stored_as = Varchar(length=64)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class ApiKey(Table):
    """A key an Open311 client sends as ``api_key`` to file suggestions; only its digest is kept."""

    id: Serial  # added by Piccolo; declared for the type checker

    name = Varchar(length=100, help_text="Who the key was issued to")
    key_digest = Varchar(length=64, unique=True, secret=True, help_text="SHA-256 of the key")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
