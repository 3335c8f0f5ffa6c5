"""Tables of the cases domain: cases, parties, the timeline, mediators, notifications."""

from __future__ import annotations

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
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from mediation.grid.tables import Grid, Mediator, Staff


class CaseCounter(Table):
    """Last number issued per county and year; bumped inside the registering transaction."""

    id: Serial  # added by Piccolo; declared for the type checker

    key = Varchar(length=64, unique=True, help_text="e.g. 平湖-2026")
    last_number = Integer(default=0)


class Case(Table):
    """矛盾纠纷: one dispute from registration to closure."""

    id: Serial  # added by Piccolo; declared for the type checker

    number = Varchar(length=64, unique=True)
    category = Varchar(length=32, index=True, help_text="DisputeCategory code")
    summary = Varchar(length=200)
    facts = Text(default="")
    grid = ForeignKey(Grid, index=True)
    # Lists are scoped by ``region_path LIKE 'prefix%'``: an index with text_pattern_ops
    # answers that on PostgreSQL (migration 2026-11-30T03:50); a plain B-tree cannot.
    region_path = Varchar(
        length=400, help_text="The grid's community path, copied for fast scoping"
    )
    source = Varchar(length=32, index=True)
    colour = Varchar(length=8, index=True, help_text="red, yellow or green")
    # Not indexed, nor are version and updated_at: the deadline sweep writes them, and an
    # update that changes no indexed column can be written in place (HOT, PostgreSQL).
    # ``overdue`` has a partial index of the overdue cases on PostgreSQL (migration
    # 2026-11-30T13:45), for the list's "overdue only" filter.
    level = Varchar(length=16, default="grid")
    status = Varchar(length=16, default="registered", index=True)
    parties_consent = Boolean(default=True, help_text="No party has refused mediation")
    public_security_risk = Boolean(default=False, help_text="Risk of a criminal case (Art. 25)")
    amount = Numeric(digits=(14, 2), null=True, default=None, help_text="Amount in dispute, yuan")
    location = Varchar(length=200, default="")
    registered_on = Date(index=True)
    registered_at = Timestamptz(default=TimestamptzNow())
    registered_by = ForeignKey(Staff, null=True, default=None)
    accepted_on = Date(null=True, default=None)
    mediation_started_on = Date(null=True, default=None)
    closed_on = Date(null=True, default=None)
    concluded_on = Date(
        null=True,
        default=None,
        help_text="Agreement reached or mediation terminated: the mediation clock stops here",
    )
    outcome = Varchar(length=16, default="", help_text="settled or terminated, once concluded")
    agreement_form = Varchar(length=8, default="", help_text="written or oral, when settled")
    # Prevention figures of the statutory statistics, recorded when the case concludes.
    prevented_suicide = Boolean(default=False, help_text="防止民间纠纷引起自杀")
    prevented_criminal_persons = Integer(
        default=0, help_text="防止民间纠纷转化为刑事案件: persons (0 = not such a case)"
    )
    prevented_petition_persons = Integer(
        default=0, help_text="防止群体性上访: persons (0 = not such a case)"
    )
    prevented_fight_persons = Integer(
        default=0, help_text="防止群体性械斗: persons (0 = not such a case)"
    )
    found_by_screening = Boolean(default=False, help_text="Found by dispute screening (排查)")
    prevented = Boolean(default=False, help_text="Settled before it broke out (预防)")
    judicially_confirmed = Boolean(default=False, help_text="Agreement judicially confirmed")
    # Whether each case clock finished by its due date, judged when it finished (None: not
    # finished, or no such clock): the dashboard's on-time rates are sums of these.
    accept_on_time = Boolean(null=True, default=None, help_text="Accepted by the accept clock")
    handle_on_time = Boolean(
        null=True, default=None, help_text="Mediation started by the handle clock"
    )
    mediation_on_time = Boolean(
        null=True, default=None, help_text="Settled or terminated by the mediation clock"
    )
    extension_days = Integer(default=0)
    extensions = Integer(default=0)
    overdue = Boolean(default=False, help_text="Set by the deadline sweep")
    linked_case: ForeignKey[Case] = ForeignKey(
        "self", null=True, default=None, help_text="Possible duplicate of"
    )
    termination_number = Varchar(
        length=64, null=True, default=None, help_text="终止调解通知书 number"
    )
    search_text = Text(default="", help_text="Number, party names and summary, for search")
    version = Integer(default=1, help_text="Optimistic lock: bumped by every change")
    updated_at = Timestamptz(default=TimestamptzNow())


class Party(Table):
    """当事人: applicant, respondent or third party; a person or an organisation."""

    id: Serial  # added by Piccolo; declared for the type checker

    case = ForeignKey(Case, index=True)
    role = Varchar(length=16, help_text="applicant, respondent or third_party")
    kind = Varchar(length=16, default="person", help_text="person or organisation")
    name = Varchar(length=100)
    id_number_encrypted = Text(default="", secret=True)
    id_number_masked = Varchar(length=32, default="")
    id_number_digest = Varchar(length=64, default="", index=True, help_text="Keyed hash, to match")
    phone = Varchar(length=32, default="", index=True)
    address = Varchar(length=200, default="")
    representative = Varchar(length=100, default="", help_text="Superseded by legal_rep/agent")
    gender = Varchar(length=8, default="", help_text="male or female (persons)")
    ethnicity = Varchar(length=20, default="", help_text="民族 (persons)")
    birth_date = Date(null=True, default=None, help_text="From the ID number unless corrected")
    occupation = Varchar(length=100, default="", help_text="职业或工作单位 (persons)")
    credit_code = Varchar(length=18, default="", help_text="统一社会信用代码 (organisations)")
    legal_rep = Varchar(length=50, default="", help_text="法定代表人（负责人） (organisations)")
    legal_rep_title = Varchar(length=50, default="", help_text="The legal representative's post")
    agent_name = Varchar(length=50, default="", help_text="委托代理人")
    agent_relation = Varchar(length=100, default="", help_text="Relation to the party, or firm")
    refuses_mediation = Boolean(default=False)
    staff = ForeignKey(Staff, null=True, default=None, help_text="If the party is on our staff")


class CaseEvent(Table):
    """Append-only timeline and audit of a case: who, when, what, before → after."""

    id: Serial  # added by Piccolo; declared for the type checker

    case = ForeignKey(Case, index=True)
    at = Timestamptz(default=TimestamptzNow())
    actor = ForeignKey(Staff, null=True, default=None)
    action = Varchar(length=32)
    from_status = Varchar(length=16, default="")
    to_status = Varchar(length=16, default="")
    changes = JSON(default={}, help_text="{field: [before, after]}")
    note = Text(default="")


class CaseMediator(Table):
    """A mediator on a case; an objection by a party ends the assignment."""

    id: Serial  # added by Piccolo; declared for the type checker

    case = ForeignKey(Case, index=True)
    mediator = ForeignKey(Mediator, index=True)
    assigned_at = Timestamptz(default=TimestamptzNow())
    assigned_by = ForeignKey(Staff, null=True, default=None)
    active = Boolean(default=True)
    ended_reason = Varchar(length=200, default="")


class Notification(Table):
    """In-app notification for one person, optionally about a case."""

    id: Serial  # added by Piccolo; declared for the type checker

    recipient = ForeignKey(Staff, index=True)
    case = ForeignKey(Case, null=True, default=None)
    kind = Varchar(length=32)
    message = Varchar(length=300)
    created_at = Timestamptz(default=TimestamptzNow())
    # Not indexed: every query asks for one recipient's notifications (the index on
    # recipient), and the sweeps insert them by the ten thousand.
    read = Boolean(default=False)


class Attachment(Table):
    """证据材料: a photo or PDF on a case, stored on disk under the data directory.

    Never deleted: a material a party takes back is marked withdrawn, with the reason, and
    stays listed in the case file.
    """

    id: Serial  # added by Piccolo; declared for the type checker

    case = ForeignKey(Case, index=True)
    filename = Varchar(length=200)
    content_type = Varchar(length=64)
    size = Integer()
    sha256 = Varchar(length=64)
    stored_as = Varchar(length=200)
    uploaded_by = ForeignKey(Staff, null=True, default=None)
    uploaded_at = Timestamptz(default=TimestamptzNow())
    kind = Varchar(
        length=16,
        default="other",
        help_text="photo, contract, receipt, statement, power_of_attorney or other",
    )
    description = Varchar(length=200, default="", help_text="What it is, in a few words")
    party = ForeignKey(
        Party, null=True, default=None, help_text="The party who brought it; none: our staff"
    )
    session: ForeignKey[MediationSession] = ForeignKey(
        LazyTableReference("MediationSession", module_path=__name__),
        null=True,
        default=None,
        help_text="Added during this session",
    )
    pages = Integer(default=1, help_text="Pages of a PDF; 1 for a photo")
    thumbnail_as = Varchar(length=200, default="", help_text="Small JPEG preview of a photo")
    metadata_removed = Boolean(
        default=False, help_text="Photo re-encoded without EXIF (older uploads were stored as sent)"
    )
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawn_by = ForeignKey(Staff, null=True, default=None)
    withdrawn_reason = Varchar(length=200, default="")


class DeadlinePolicy(Table):
    """The deadline policy in force (JSON, editable by admin); none stored = the default file."""

    id: Serial  # added by Piccolo; declared for the type checker

    body = JSON()
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by = ForeignKey(Staff, null=True, default=None)


class MediationSession(Table):
    """协商/调解会: one sitting on a case, with participants and live minutes."""

    id: Serial  # added by Piccolo; declared for the type checker

    case = ForeignKey(Case, index=True)
    starts_at = Timestamptz(index=True)
    minutes_planned = Integer(default=60, help_text="Planned length, for double-booking checks")
    room = Varchar(length=100, default="")
    mode = Varchar(length=16, default="in_person", help_text="in_person, phone or video")
    mediator = ForeignKey(Mediator, null=True, default=None)
    status = Varchar(
        length=16,
        default="scheduled",
        help_text="scheduled, open, closed, cancelled or rescheduled",
    )
    cancel_reason = Varchar(length=200, default="", help_text="Why cancelled or rescheduled")
    rescheduled_to = Integer(
        null=True, default=None, help_text="The session that replaces a rescheduled one"
    )
    recorder = Varchar(length=50, default="", help_text="记录人")
    outcome = Varchar(length=16, default="", help_text="agreement, partial, adjourned, failed")
    next_date = Date(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    created_by = ForeignKey(Staff, null=True, default=None)


class SessionParticipant(Table):
    """Someone at the table: a party, a representative, the mediator, police, residents…"""

    id: Serial  # added by Piccolo; declared for the type checker

    session = ForeignKey(MediationSession, index=True)
    name = Varchar(length=100)
    role = Varchar(length=32)
    side = Varchar(length=16, default="", help_text="applicant or respondent, for representatives")
    attended = Boolean(default=True)


class MinuteEntry(Table):
    """One statement in the minutes, in order; locked when the session closes."""

    id: Serial  # added by Piccolo; declared for the type checker

    session = ForeignKey(MediationSession, index=True)
    seq = Integer()
    speaker = Varchar(length=100)
    statement = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    created_by = ForeignKey(Staff, null=True, default=None)


class AgreementCounter(Table):
    """Last agreement number per mediation committee and year."""

    id: Serial  # added by Piccolo; declared for the type checker

    key = Varchar(length=64, unique=True)
    last_number = Integer(default=0)


class Agreement(Table):
    """人民调解协议书: drafted, issued with a number, in effect on the last signature, locked."""

    id: Serial  # added by Piccolo; declared for the type checker

    case = ForeignKey(Case, index=True)
    kind = Varchar(length=16, default="written", help_text="written or oral")
    status = Varchar(length=16, default="draft", help_text="draft, issued, effective")
    committee = Varchar(length=100, help_text="e.g. 当湖街道人民调解委员会")
    committee_short = Varchar(length=16, help_text="e.g. 当湖, used in the number")
    number = Varchar(length=64, null=True, default=None, unique=True)
    main_facts = Text(default="")
    issues = Text(default="")
    responsibilities = Text(default="")
    oral_content = Text(default="")
    performance_method = Text(default="")
    copies = Integer(default=3)
    verification_code = Varchar(length=16, null=True, default=None, unique=True)
    content_hash = Varchar(length=64, default="")
    issued_on = Date(null=True, default=None)
    effective_on = Date(null=True, default=None)
    supplements: ForeignKey[Agreement] = ForeignKey(
        "self", null=True, default=None, help_text="Supplementary to"
    )
    amended_clauses = Varchar(
        length=200, default="", help_text="Supplementary: which clauses of the original change"
    )
    reached_on = Date(null=True, default=None, help_text="Oral: the day it was reached")
    recorded_by = ForeignKey(Staff, null=True, default=None, help_text="Who drafted/recorded it")
    version = Integer(default=1)
    confirmation_reminded_on = Date(
        null=True, default=None, help_text="When the judicial-confirmation reminder went out"
    )
    parties_snapshot = Text(
        default="",
        help_text="JSON: the parties as printed, frozen at issue (the hash and reprints use it)",
    )


class AgreementClause(Table):
    """One obligation: who owes what, how much, how, where and by when; performance tracked."""

    id: Serial  # added by Piccolo; declared for the type checker

    agreement = ForeignKey(Agreement, index=True)
    seq = Integer()
    obligor = Varchar(length=100)
    obligee = Varchar(length=100, default="")
    obligation = Text()
    amount = Numeric(digits=(14, 2), null=True, default=None)
    method = Varchar(length=200, default="")
    place = Varchar(length=200, default="")
    deadline = Date(null=True, default=None)
    done_on = Date(null=True, default=None)
    overdue_notified_on = Date(
        null=True, default=None, help_text="When the sweep reported this clause overdue"
    )


class Signature(Table):
    """A signature, seal or fingerprint and its date; the last one puts the agreement in effect."""

    id: Serial  # added by Piccolo; declared for the type checker

    agreement = ForeignKey(Agreement, index=True)
    signatory = Varchar(length=100)
    role = Varchar(length=16, help_text="party, mediator or seal")
    signed_on = Date()
    recorded_by = ForeignKey(Staff, null=True, default=None)


class FollowUp(Table):
    """回访: whether the agreement is being kept and how satisfied the parties are."""

    id: Serial  # added by Piccolo; declared for the type checker

    case = ForeignKey(Case, index=True)
    visited_on = Date()
    visited_by = ForeignKey(Staff, null=True, default=None)
    performance = Varchar(length=16, help_text="performed, partly or not")
    method = Varchar(length=16, default="", help_text="回访方式: visit, phone, video, letter")
    place = Varchar(length=200, default="", help_text="回访地点")
    satisfaction = Varchar(length=16, default="")
    note = Text(default="")


class HolidayYear(Table):
    """One year's official holiday schedule (国务院办公厅 notice), entered or imported by admin.

    A year without a row is counted Monday to Friday, and every clock that relies on it says so.
    """

    id: Serial  # added by Piccolo; declared for the type checker

    year = Integer(unique=True)
    source = Varchar(length=300, default="", help_text="The notice the schedule comes from")
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by = ForeignKey(Staff, null=True, default=None)


class HolidayDay(Table):
    """A holiday (休) or a make-up working day on a weekend (班) of a scheduled year."""

    id: Serial  # added by Piccolo; declared for the type checker

    day = Date(unique=True)
    year = Integer(index=True)
    kind = Varchar(length=16, help_text="holiday or workday")
    name = Varchar(length=60, default="", help_text="e.g. 春节")
