"""Consultation sessions: scheduling checked for double bookings, cancelling and rescheduling,
participants, live minutes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from piccolo.columns.combination import Combinable

from mediation.accounts.services import CurrentUser
from mediation.cases.access import case_entitled
from mediation.cases.services import CaseError, case_for, record_event
from mediation.cases.tables import (
    CaseMediator,
    MediationSession,
    MinuteEntry,
    Party,
    SessionParticipant,
)
from mediation.clock import utc_now
from mediation.db import PreparedSelect, fields_of, write_transaction
from mediation.grid.tables import Mediator
from mediation.i18n import LazyText, format_datetime
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext as _l
from mediation.inputs import too_long

MODES = {"in_person": _l("In person"), "phone": _l("By phone"), "video": _l("By video")}
PARTICIPANT_ROLES = {
    "party": _l("Party"),
    "representative": _l("Representative"),
    "agent": _l("Authorised agent"),
    "mediator": _l("Mediator"),
    "grid_worker": _l("Grid worker"),
    "police": _l("Community police officer"),
    "residents_committee": _l("Residents' committee"),
    "merchant_representative": _l("Merchants' representative"),
    "property_management": _l("Property management"),
    "lawyer": _l("Lawyer"),
    "other": _l("Other"),
}
OUTCOMES = {
    "agreement": _l("Agreement reached"),
    "partial": _l("Partial agreement"),
    "adjourned": _l("Adjourned"),
    "failed": _l("No agreement"),
}
SIDES = {
    "applicant": _l("Applicant side"),
    "respondent": _l("Respondent side"),
    "third_party": _l("Third party side"),
}
# A session that finished is 已结束 (never 结案: that word belongs to the case).
STATUS_LABELS = {
    "scheduled": _l("Scheduled"),
    "open": _l("In progress"),
    "closed": _l("Finished"),
    "cancelled": _l("Cancelled"),
    "rescheduled": _l("Rescheduled"),
}
# Only these still hold their room and mediator; the others are history.
ACTIVE_STATUSES = ("scheduled", "open")
# Left out of the case file's session records: the sitting never took place.
NOT_HELD_STATUSES = ("cancelled", "rescheduled")
MAX_REASON = 200
# Ningbo regulations Art. 20: a side with many parties elects at most five representatives.
MAX_REPRESENTATIVES_PER_SIDE = 5
MAX_ROOM = 100
MAX_STATEMENT = 5000


@dataclass(frozen=True)
class Booking:
    session_id: int
    case_number: str
    starts_at: datetime
    reason: str
    room: str = ""
    minutes: int = 60
    case_id: int | None = None


class DoubleBooking(CaseError):
    """The room or the mediator is taken: nothing is saved until the user confirms."""

    def __init__(self, conflicts: list[Booking]) -> None:
        super().__init__(
            _("The room or the mediator is already booked at this time."), "double_booking"
        )
        self.conflicts = conflicts


async def booking_conflicts(
    starts_at: datetime,
    minutes: int,
    room: str,
    mediator_ids: Iterable[int | None] = (),
    exclude_session: int | None = None,
    mediator_names: Iterable[str] = (),
) -> list[Booking]:
    """Other sessions that overlap in the same room or with any of the mediators — presiding
    there or attending (sessions list attending mediators by name) — in two queries."""
    ids = {i for i in mediator_ids if i}
    names = {n for n in mediator_names if n}
    # Sessions name their attending mediators; presiding ones are ids: know both ways.
    known: Combinable | None = Mediator.id.is_in(list(ids)) if ids else None
    if names:
        by_name = Mediator.staff._.display_name.is_in(list(names))
        known = by_name if known is None else known | by_name
    if known is not None:
        rows = await Mediator.select(Mediator.id, Mediator.staff._.display_name).where(known)
        ids |= {r["id"] for r in rows}
        names |= {r["staff.display_name"] for r in rows}
    window_start = starts_at - timedelta(hours=12)
    window_end = starts_at + timedelta(minutes=minutes)
    query = MediationSession.select(
        MediationSession.id,
        MediationSession.starts_at,
        MediationSession.minutes_planned,
        MediationSession.room,
        MediationSession.mediator,
        MediationSession.case,
        MediationSession.case.number,
    ).where(
        MediationSession.starts_at >= window_start,
        MediationSession.starts_at < window_end,
        MediationSession.status.is_in(list(ACTIVE_STATUSES)),
    )
    if exclude_session:
        query = query.where(MediationSession.id != exclude_session)
    rows = [
        row
        for row in await query
        if row["starts_at"] < window_end
        and starts_at < row["starts_at"] + timedelta(minutes=row["minutes_planned"])
    ]
    attending: dict[int, set[str]] = {}
    if names and rows:
        for p in await SessionParticipant.select(
            SessionParticipant.session, SessionParticipant.name
        ).where(
            SessionParticipant.session.is_in([r["id"] for r in rows]),
            SessionParticipant.role == "mediator",
            SessionParticipant.name.is_in(list(names)),
        ):
            attending.setdefault(p["session"], set()).add(p["name"])
    found = []
    for row in rows:
        if room.strip() and row["room"].strip() == room.strip():
            reason = "room"
        elif row["mediator"] in ids or attending.get(row["id"]):
            reason = "mediator"
        else:
            continue
        found.append(
            Booking(
                row["id"],
                row["case.number"],
                row["starts_at"],
                reason,
                row["room"],
                row["minutes_planned"],
                row["case"],
            )
        )
    return found


def _conflict_note(conflicts: list[Booking]) -> str:
    """The other sessions as people read them, for the timeline."""
    return "；".join(
        _(
            "case %(number)s, %(when)s, %(room)s",
            number=c.case_number,
            when=format_datetime(c.starts_at, "long"),
            room=c.room or "—",
        )
        for c in conflicts
    )


async def _record_override(
    case_id: int, user: CurrentUser, starts_at: datetime, room: str, conflicts: list[Booking]
) -> None:
    await record_event(
        case_id,
        user,
        "session_double_booked",
        changes={
            "session": [None, starts_at.isoformat(timespec="minutes")],
            "other_case": [None, conflicts[0].case_number],
            "other_session": [None, conflicts[0].starts_at.isoformat(timespec="minutes")],
        },
        note=_("Scheduled anyway, overlapping: %(others)s", others=_conflict_note(conflicts)),
    )


async def schedule_session(
    user: CurrentUser,
    case_id: int,
    starts_at: datetime,
    minutes: int,
    room: str,
    mode: str,
    mediator_id: int | None,
    *,
    refuse_double_booking: bool = False,
    attending_mediators: list[int] | None = None,
) -> tuple[int, list[Booking]]:
    """Create a session. A double booking is checked first: the web form refuses it
    (``DoubleBooking``, nothing saved) until the user confirms "schedule anyway"; a confirmed
    or programmatic override is saved, recorded on the timeline and returned."""
    case = await case_for(user, case_id)
    if case is None:
        raise CaseError(_("This case does not exist."))
    if mode not in MODES:
        raise CaseError(_("Choose from the list."), "mode")
    if not 10 <= minutes <= 600:
        raise CaseError(_("A session lasts between 10 minutes and 10 hours."), "minutes")
    if message := too_long(room.strip(), MAX_ROOM):
        raise CaseError(message, "room")
    if mediator_id and not await Mediator.exists().where(Mediator.id == mediator_id):
        raise CaseError(_("Choose from the list."), "mediator")
    # Those ticked who will be listed on the session: the case's own active mediators.
    attending = await _active_on_case(attending_mediators or [], case_id)
    conflicts = await booking_conflicts(starts_at, minutes, room, [mediator_id, *sorted(attending)])
    if conflicts and refuse_double_booking:
        raise DoubleBooking(conflicts)
    session = MediationSession(
        case=case_id,
        starts_at=starts_at,
        minutes_planned=minutes,
        room=room.strip(),
        mode=mode,
        mediator=mediator_id,
        created_by=user.id,
    )
    async with write_transaction():
        await session.save()
        names = list(dict.fromkeys(attending.values()))
        for name in names:
            await SessionParticipant(session=session.id, name=name, role="mediator").save()
    await record_event(
        case_id,
        user,
        "session_scheduled",
        changes={"session": [None, starts_at.isoformat(timespec="minutes")], "room": [None, room]},
    )
    if conflicts:
        await _record_override(case_id, user, starts_at, room, conflicts)
    return session.id, conflicts


async def _active_on_case(mediator_ids: list[int], case_id: int) -> dict[int, str]:
    """The case's own active mediators among the ticked ones, id → name (others are
    ignored: they are neither checked for double bookings nor listed on the session)."""
    if not mediator_ids:
        return {}
    rows = await CaseMediator.select(
        CaseMediator.mediator, CaseMediator.mediator._.staff._.display_name
    ).where(
        CaseMediator.case == case_id,
        CaseMediator.active.eq(True),
        CaseMediator.mediator.is_in(mediator_ids),
    )
    return {r["mediator"]: r["mediator.staff.display_name"] for r in rows}


@dataclass(frozen=True, slots=True)
class AssignedMediator:
    """A mediator active on a case: ``id`` is the mediator, ``staff`` their account."""

    id: int
    staff: int
    name: str


async def assigned_mediators(case_id: int) -> list[AssignedMediator]:
    """The case's active mediators, for the new-session form (ticked by default)."""
    rows = (
        await CaseMediator.select(
            CaseMediator.mediator.as_alias("id"),
            CaseMediator.mediator.staff.as_alias("staff"),
            CaseMediator.mediator._.staff._.display_name.as_alias("name"),
        )
        .where(CaseMediator.case == case_id, CaseMediator.active.eq(True))
        .order_by(CaseMediator.id)
    )
    return [AssignedMediator(**r) for r in {r["id"]: r for r in rows}.values()]


async def _scheduled_session(user: CurrentUser, session_id: int) -> SessionRecord:
    session = await session_for(user, session_id)
    if session is None:
        raise CaseError(_("This session does not exist."))
    if session.status != "scheduled":
        raise CaseError(_("Only a session that has not started can be cancelled or rescheduled."))
    return session


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise CaseError(_("Give the reason."), "reason")
    if message := too_long(reason, MAX_REASON):
        raise CaseError(message, "reason")
    return reason


async def cancel_session(user: CurrentUser, session_id: int, reason: str) -> None:
    """A session that will not take place: kept, with its reason, out of the case file."""
    session = await _scheduled_session(user, session_id)
    reason = _reason(reason)
    updated = (
        await MediationSession.update(
            {MediationSession.status: "cancelled", MediationSession.cancel_reason: reason}
        )
        .where(MediationSession.id == session_id, MediationSession.status == "scheduled")
        .returning(MediationSession.id)
    )
    if not updated:
        raise CaseError(_("Only a session that has not started can be cancelled or rescheduled."))
    await record_event(
        session.case,
        user,
        "session_cancelled",
        changes={"session": [None, session.starts_at.isoformat(timespec="minutes")]},
        note=reason,
    )


async def reschedule_session(
    user: CurrentUser,
    session_id: int,
    starts_at: datetime,
    room: str,
    reason: str,
    *,
    refuse_double_booking: bool = False,
) -> tuple[int, list[Booking]]:
    """Move a session to another time or room: the old one is kept as 已改期 and points to the
    new one, which is checked for double bookings like any new session."""
    old = await _scheduled_session(user, session_id)
    reason = _reason(reason)
    if message := too_long(room.strip(), MAX_ROOM):
        raise CaseError(message, "room")
    minutes = old.minutes_planned
    # Everyone who was to mediate: the presiding mediator and those listed as attending.
    attending = await SessionParticipant.select(SessionParticipant.name).where(
        SessionParticipant.session == session_id, SessionParticipant.role == "mediator"
    )
    conflicts = await booking_conflicts(
        starts_at,
        minutes,
        room,
        [old.mediator],
        session_id,
        mediator_names=[r["name"] for r in attending],
    )
    if conflicts and refuse_double_booking:
        raise DoubleBooking(conflicts)
    async with write_transaction():
        updated = (
            await MediationSession.update(
                {MediationSession.status: "rescheduled", MediationSession.cancel_reason: reason}
            )
            .where(MediationSession.id == session_id, MediationSession.status == "scheduled")
            .returning(MediationSession.id)
        )
        if not updated:
            raise CaseError(
                _("Only a session that has not started can be cancelled or rescheduled.")
            )
        new = MediationSession(
            case=old.case,
            starts_at=starts_at,
            minutes_planned=minutes,
            room=room.strip(),
            mode=old.mode,
            mediator=old.mediator,
            created_by=user.id,
        )
        await new.save()
        await MediationSession.update({MediationSession.rescheduled_to: new.id}).where(
            MediationSession.id == session_id
        )
        for p in old.participants:
            if p.role == "mediator":
                await SessionParticipant(session=new.id, name=p.name, role="mediator").save()
    await record_event(
        old.case,
        user,
        "session_rescheduled",
        changes={
            "session": [
                old.starts_at.isoformat(timespec="minutes"),
                starts_at.isoformat(timespec="minutes"),
            ],
            "room": [old.room, room.strip()],
        },
        note=reason,
    )
    if conflicts:
        await _record_override(old.case, user, starts_at, room, conflicts)
    return new.id, conflicts


async def session_for(user: CurrentUser, session_id: int) -> SessionRecord | None:
    row = (
        await MediationSession.select(
            *_SESSION_COLUMNS,
            MediationSession.case._.number,
            MediationSession.case._.region_path,
        )
        .where(MediationSession.id == session_id)
        .first()
    )
    if row is None or not await case_entitled(user, row["case"]):
        return None
    moved = None
    if row["rescheduled_to"]:
        moved = (
            await MediationSession.select(MediationSession.starts_at, MediationSession.room)
            .where(MediationSession.id == row["rescheduled_to"])
            .first()
        )
    participants = (
        await SessionParticipant.select()
        .where(SessionParticipant.session == session_id)
        .order_by(SessionParticipant.id)
    )
    minutes = (
        await MinuteEntry.select()
        .where(MinuteEntry.session == session_id)
        .order_by(MinuteEntry.seq)
    )
    return SessionRecord(
        **fields_of(row, _SESSION_JOINED),
        rescheduled_starts_at=moved["starts_at"] if moved else None,
        rescheduled_room=moved["room"] if moved else None,
        participants=[Participant(**p) for p in participants],
        minutes=[MinuteRow(**m) for m in minutes],
    )


async def _open_session(user: CurrentUser, session_id: int) -> SessionRecord:
    session = await session_for(user, session_id)
    if session is None:
        raise CaseError(_("This session does not exist."))
    if session.status == "closed":
        raise CaseError(_("The session is closed: its record can no longer be changed."))
    if session.status in NOT_HELD_STATUSES:
        raise CaseError(_("This session did not take place: it has no participants or minutes."))
    return session


async def add_participant(
    user: CurrentUser, session_id: int, name: str, role: str, side: str = "", attended: bool = True
) -> int:
    session = await _open_session(user, session_id)
    name = name.strip()
    if not name:
        raise CaseError(_("This field is required."), "name")
    if message := too_long(name, 100):
        raise CaseError(message, "name")
    if role not in PARTICIPANT_ROLES:
        raise CaseError(_("Choose from the list."), "role")
    sides = await sides_of_case(session.case)
    if side and side not in sides:
        raise CaseError(_("Choose from the list."), "side")
    if role == "representative":
        if side not in sides:
            raise CaseError(_("Say which side the representative speaks for."), "side")
        count = await SessionParticipant.count().where(
            SessionParticipant.session == session_id,
            SessionParticipant.role == "representative",
            SessionParticipant.side == side,
        )
        if count >= MAX_REPRESENTATIVES_PER_SIDE:
            raise CaseError(
                _("A side may have at most %(n)s representatives.", n=MAX_REPRESENTATIVES_PER_SIDE),
                "role",
            )
    participant = SessionParticipant(
        session=session.id, name=name, role=role, side=side, attended=attended
    )
    await participant.save()
    return participant.id


async def sides_of_case(case_id: int) -> dict[str, LazyText]:
    """The sides a participant may be on: the third party's only if the case has one."""
    has_third_party = await Party.exists().where(Party.case == case_id, Party.role == "third_party")
    return {k: v for k, v in SIDES.items() if k != "third_party" or has_third_party}


async def add_minute(user: CurrentUser, session_id: int, speaker: str, statement: str) -> MinuteRow:
    """Append a statement; the order is kept by a sequence number assigned in a transaction."""
    session = await _open_session(user, session_id)
    speaker, statement = speaker.strip(), statement.strip()
    if not speaker:
        raise CaseError(_("Say who is speaking."), "speaker")
    if not statement:
        raise CaseError(_("Write what was said."), "statement")
    # Refused, never cut: a statement typed live must not lose its end.
    for field, text, limit in (("speaker", speaker, 100), ("statement", statement, MAX_STATEMENT)):
        if message := too_long(text, limit):
            raise CaseError(message, field)
    async with write_transaction():
        last = (
            await MinuteEntry.select(MinuteEntry.seq)
            .where(MinuteEntry.session == session_id)
            .order_by(MinuteEntry.seq, ascending=False)
            .first()
        )
        entry = MinuteEntry(
            session=session_id,
            seq=(last["seq"] if last else 0) + 1,
            speaker=speaker,
            statement=statement,
            created_by=user.id,
        )
        await entry.save()
        if session.status == "scheduled":
            await MediationSession.update({MediationSession.status: "open"}).where(
                MediationSession.id == session_id
            )
    return MinuteRow(
        id=entry.id,
        session=session_id,
        seq=entry.seq,
        speaker=entry.speaker,
        statement=entry.statement,
        created_at=entry.created_at,
        created_by=user.id,
    )


async def close_session(
    user: CurrentUser,
    session_id: int,
    outcome: str,
    next_date: date | None = None,
    started_at: datetime | None = None,
) -> None:
    """Record the outcome; from now on the minutes are locked. The session ends now, so it
    must have started by now: ``started_at`` is when it actually started (default: the
    scheduled start). A start that differs from the scheduled one replaces it and is recorded
    on the timeline (parties who came early or late)."""
    session = await _open_session(user, session_id)
    if outcome not in OUTCOMES:
        raise CaseError(_("Choose from the list."), "outcome")
    if outcome == "adjourned" and next_date is None:
        raise CaseError(_("Give the date of the next session."), "next_date")
    now = utc_now()
    starts_at = session.starts_at if started_at is None else started_at
    if starts_at > now:
        if started_at is None:
            raise CaseError(
                _(
                    "The session is scheduled to start at %(time)s, later than now: "
                    "enter the time it actually started.",
                    time=format_datetime(session.starts_at, "long"),
                ),
                "started_at",
            )
        raise CaseError(
            _("The start cannot be later than now, when the session ends."), "started_at"
        )
    moved = _to_minute(starts_at) != _to_minute(session.starts_at)
    changes: dict = {
        MediationSession.status: "closed",
        MediationSession.outcome: outcome,
        MediationSession.next_date: next_date,
        MediationSession.closed_at: now,
        MediationSession.recorder: session.recorder or user.display_name,
    }
    if moved:
        changes[MediationSession.starts_at] = starts_at
    updated = (
        await MediationSession.update(changes)
        .where(MediationSession.id == session_id, MediationSession.status != "closed")
        .returning(MediationSession.id)
    )
    if not updated:
        raise CaseError(_("The session is closed: its record can no longer be changed."))
    if moved:
        await record_event(
            session.case,
            user,
            "session_start_corrected",
            changes={
                "session": [
                    session.starts_at.isoformat(timespec="minutes"),
                    starts_at.isoformat(timespec="minutes"),
                ]
            },
        )
    await record_event(
        session.case,
        user,
        "session_closed",
        changes={"outcome": [None, outcome]},
        note=str(OUTCOMES[outcome]),
    )


def _to_minute(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


async def add_attendance(user: CurrentUser, session_id: int, ticks: list[str]) -> int:
    """Participants ticked from the case's parties (``party-<id>``) and their authorised
    agents (``agent-<id>``): each keeps the party's role and side; names already on the
    session are not added twice. Returns how many were added."""
    session = await _open_session(user, session_id)
    parties = await Party.select(
        Party.id, Party.name, Party.role, Party.agent_name, Party.agent_relation
    ).where(Party.case == session.case)
    present = {p.name for p in session.participants}
    added = 0
    async with write_transaction():
        for p in parties:
            side = p["role"] if p["role"] in SIDES else ""
            rows = []
            if f"party-{p['id']}" in ticks:
                rows.append((p["name"], "party"))
            if f"agent-{p['id']}" in ticks and p["agent_name"]:
                rows.append((p["agent_name"], "agent"))
            for name, role in rows:
                if name in present:
                    continue
                await SessionParticipant(
                    session=session_id, name=name, role=role, side=side, attended=True
                ).save()
                present.add(name)
                added += 1
    return added


# Built once (Piccolo copies a referenced table's columns each time one is named).
_SESSION_COLUMNS = (
    *MediationSession.all_columns(),
    MediationSession.mediator._.staff._.display_name,
)


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """A session of a case as the case's page lists it (see ``tables.MediationSession``)."""

    id: int
    case: int
    starts_at: datetime
    minutes_planned: int
    room: str
    mode: str
    mediator: int | None
    status: str
    cancel_reason: str
    rescheduled_to: int | None
    recorder: str
    outcome: str
    next_date: date | None
    closed_at: datetime | None
    created_by: int | None
    mediator_name: str | None


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone listed on a session: a party, an agent, a mediator, anyone else present."""

    id: int
    session: int
    name: str
    role: str
    side: str
    attended: bool


@dataclass(frozen=True, slots=True)
class MinuteRow:
    """One statement of a session's minutes, in the order it was said (``seq``)."""

    id: int
    session: int
    seq: int
    speaker: str
    statement: str
    created_at: datetime
    created_by: int | None


@dataclass(frozen=True, slots=True)
class SessionRecord(SessionSummary):
    """A session with its case, who took part and its minutes: the session's page and its
    printed record. ``rescheduled_*``: where a rescheduled session moved to."""

    case_number: str
    case_region_path: str
    rescheduled_starts_at: datetime | None
    rescheduled_room: str | None
    participants: list[Participant]
    minutes: list[MinuteRow]


_SESSION_JOINED = {
    "mediator.staff.display_name": "mediator_name",
    "case.number": "case_number",
    "case.region_path": "case_region_path",
}


_SESSIONS_OF_CASE = PreparedSelect(
    lambda case_id: (
        MediationSession.select(*_SESSION_COLUMNS)
        .where(MediationSession.case == case_id)
        .order_by(MediationSession.starts_at)
    )
)


async def sessions_of_case(case_id: int) -> list[SessionSummary]:
    rows = await _SESSIONS_OF_CASE(case_id)
    return [
        SessionSummary(**fields_of(r, {"mediator.staff.display_name": "mediator_name"}))
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class PresentPerson:
    """Someone who attended a session, as the printed record names them (and has them sign)."""

    name: str
    role_label: str | LazyText  # a label is translated when printed, in the print locale
    role: str = ""  # the participant's role (PARTICIPANT_ROLES): a mediator signs as mediator


@dataclass(frozen=True, slots=True)
class SessionRecordPrint:
    """The context of templates/documents/session_record.html (调解笔录)."""

    session: SessionRecord
    committee: str
    cause: str  # 案由: category and summary of the dispute
    starts: datetime  # local time
    ends: datetime | None  # local time; None while the session is open (a blank date line)
    present: tuple[PresentPerson, ...]
    recorder: str


async def role_labels(session: SessionRecord) -> dict[int, str | LazyText]:
    """Each participant's role in words, as the session page and the printed record say it:
    a party by their role in the case (申请人, 被申请人, 第三人), a party's authorised agent as
    that party's agent, anyone else by their role and the side they are on."""
    from mediation.cases.labels import PARTY_ROLE_LABELS

    party_rows = await Party.select(Party.name, Party.role, Party.agent_name).where(
        Party.case == session.case
    )
    party_roles = {p["name"]: PARTY_ROLE_LABELS.get(p["role"], p["role"]) for p in party_rows}
    agent_of = {p["agent_name"]: p["name"] for p in party_rows if p["agent_name"]}

    def label(p: Participant) -> str | LazyText:
        if p.role == "party" and p.name in party_roles:
            return party_roles[p.name]
        if p.role == "agent" and p.name in agent_of:
            return _("Authorised agent of %(party)s", party=agent_of[p.name])
        role = PARTICIPANT_ROLES.get(p.role, p.role)
        if p.side in SIDES:
            return _("%(role)s (%(side)s)", role=role, side=SIDES[p.side])
        return role

    return {p.id: label(p) for p in session.participants}


async def record_context(session: SessionRecord) -> SessionRecordPrint:
    """调解笔录: the session with its committee, 案由, roles in words and local times."""
    from mediation.cases.agreements import committee_for
    from mediation.cases.categories import category_label
    from mediation.cases.tables import Case
    from mediation.clock import to_local

    case = await Case.select().where(Case.id == session.case).first()
    assert case is not None  # a session's case is never deleted
    committee = await committee_for(case["region_path"], case["level"])
    labels = await role_labels(session)
    return SessionRecordPrint(
        session=session,
        committee=committee.name,
        cause=f"{category_label(case['category'])}：{case['summary']}",
        starts=to_local(session.starts_at),
        ends=to_local(session.closed_at) if session.closed_at else None,
        present=tuple(
            PresentPerson(name=p.name, role_label=labels[p.id], role=p.role)
            for p in session.participants
            if p.attended
        ),
        recorder=session.recorder or "",
    )
