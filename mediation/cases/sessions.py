"""Consultation sessions: scheduling with double-booking warnings, participants, live minutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mediation.accounts.services import CurrentUser
from mediation.cases.access import case_entitled
from mediation.cases.services import CaseError, case_for, record_event
from mediation.cases.tables import MediationSession, MinuteEntry, SessionParticipant
from mediation.clock import utc_now
from mediation.db import write_transaction
from mediation.grid.tables import Mediator
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext as _l
from mediation.inputs import too_long

MODES = {"in_person": _l("In person"), "phone": _l("By phone"), "video": _l("By video")}
PARTICIPANT_ROLES = {
    "party": _l("Party"),
    "representative": _l("Representative"),
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
SIDES = {"applicant": _l("Applicant side"), "respondent": _l("Respondent side")}
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


async def booking_conflicts(
    starts_at: datetime,
    minutes: int,
    room: str,
    mediator_id: int | None,
    exclude_session: int | None = None,
) -> list[Booking]:
    """Other sessions that overlap in the same room or with the same mediator."""
    window_start = starts_at - timedelta(hours=12)
    window_end = starts_at + timedelta(minutes=minutes)
    query = MediationSession.select(
        MediationSession.id,
        MediationSession.starts_at,
        MediationSession.minutes_planned,
        MediationSession.room,
        MediationSession.mediator,
        MediationSession.case.number,
    ).where(
        MediationSession.starts_at >= window_start,
        MediationSession.starts_at < window_end,
        MediationSession.status != "closed",
    )
    if exclude_session:
        query = query.where(MediationSession.id != exclude_session)
    found = []
    for row in await query:
        other_end = row["starts_at"] + timedelta(minutes=row["minutes_planned"])
        if not (row["starts_at"] < window_end and starts_at < other_end):
            continue
        if room and row["room"].strip() == room.strip():
            found.append(Booking(row["id"], row["case.number"], row["starts_at"], "room"))
        elif mediator_id and row["mediator"] == mediator_id:
            found.append(Booking(row["id"], row["case.number"], row["starts_at"], "mediator"))
    return found


async def schedule_session(
    user: CurrentUser,
    case_id: int,
    starts_at: datetime,
    minutes: int,
    room: str,
    mode: str,
    mediator_id: int | None,
) -> tuple[int, list[Booking]]:
    """Create a session; a double booking does not block, it is returned as a warning."""
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
    conflicts = await booking_conflicts(starts_at, minutes, room, mediator_id)
    session = MediationSession(
        case=case_id,
        starts_at=starts_at,
        minutes_planned=minutes,
        room=room.strip(),
        mode=mode,
        mediator=mediator_id,
        created_by=user.id,
    )
    await session.save()
    await record_event(
        case_id,
        user,
        "session_scheduled",
        changes={"session": [None, starts_at.isoformat(timespec="minutes")], "room": [None, room]},
    )
    return session.id, conflicts


async def session_for(user: CurrentUser, session_id: int) -> dict | None:
    row = (
        await MediationSession.select(
            MediationSession.all_columns(),
            MediationSession.case.number,
            MediationSession.case.region_path,
            MediationSession.mediator.staff.display_name,
        )
        .where(MediationSession.id == session_id)
        .first()
    )
    if row is None or not await case_entitled(user, row["case"]):
        return None
    row["participants"] = (
        await SessionParticipant.select()
        .where(SessionParticipant.session == session_id)
        .order_by(SessionParticipant.id)
    )
    row["minutes"] = (
        await MinuteEntry.select()
        .where(MinuteEntry.session == session_id)
        .order_by(MinuteEntry.seq)
    )
    return row


async def _open_session(user: CurrentUser, session_id: int) -> dict:
    session = await session_for(user, session_id)
    if session is None:
        raise CaseError(_("This session does not exist."))
    if session["status"] == "closed":
        raise CaseError(_("The session is closed: its record can no longer be changed."))
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
    if role == "representative":
        if side not in SIDES:
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
        session=session["id"], name=name, role=role, side=side, attended=attended
    )
    await participant.save()
    return participant.id


async def add_minute(user: CurrentUser, session_id: int, speaker: str, statement: str) -> dict:
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
        if session["status"] == "scheduled":
            await MediationSession.update({MediationSession.status: "open"}).where(
                MediationSession.id == session_id
            )
    return {
        "id": entry.id,
        "seq": entry.seq,
        "speaker": entry.speaker,
        "statement": entry.statement,
    }


async def edit_minute(user: CurrentUser, session_id: int, entry_id: int, statement: str) -> None:
    await _open_session(user, session_id)
    if not statement.strip():
        raise CaseError(_("Write what was said."), "statement")
    if message := too_long(statement.strip(), MAX_STATEMENT):
        raise CaseError(message, "statement")
    await MinuteEntry.update({MinuteEntry.statement: statement.strip()}).where(
        MinuteEntry.id == entry_id, MinuteEntry.session == session_id
    )


async def close_session(
    user: CurrentUser, session_id: int, outcome: str, next_date: date | None = None
) -> None:
    """Record the outcome; from now on the minutes are locked."""
    session = await _open_session(user, session_id)
    if outcome not in OUTCOMES:
        raise CaseError(_("Choose from the list."), "outcome")
    if outcome == "adjourned" and next_date is None:
        raise CaseError(_("Give the date of the next session."), "next_date")
    await MediationSession.update(
        {
            MediationSession.status: "closed",
            MediationSession.outcome: outcome,
            MediationSession.next_date: next_date,
            MediationSession.closed_at: utc_now(),
            MediationSession.recorder: session.get("recorder") or user.display_name,
        }
    ).where(MediationSession.id == session_id, MediationSession.status != "closed")
    await record_event(
        session["case"],
        user,
        "session_closed",
        changes={"outcome": [None, outcome]},
        note=str(OUTCOMES[outcome]),
    )


async def sessions_of_case(case_id: int) -> list[dict]:
    return (
        await MediationSession.select(
            MediationSession.all_columns(), MediationSession.mediator.staff.display_name
        )
        .where(MediationSession.case == case_id)
        .order_by(MediationSession.starts_at)
    )


async def record_context(session: dict) -> dict:
    """调解笔录: the session with its committee, 案由, roles in words and local times."""
    from mediation.cases.agreements import committee_for
    from mediation.cases.categories import category_label
    from mediation.cases.labels import PARTY_ROLE_LABELS
    from mediation.cases.tables import Case, Party
    from mediation.clock import to_local

    case = await Case.select().where(Case.id == session["case"]).first()
    committee = await committee_for(case)
    party_roles = {
        p["name"]: PARTY_ROLE_LABELS.get(p["role"], p["role"])
        for p in await Party.select(Party.name, Party.role).where(Party.case == case["id"])
    }
    ended = session["closed_at"] or (
        session["starts_at"] + timedelta(minutes=session["minutes_planned"])
        if session["status"] != "closed"
        else None
    )
    return {
        "session": session,
        "committee": committee.name,
        "cause": f"{category_label(case['category'])}：{case['summary']}",
        "starts": to_local(session["starts_at"]),
        "ends": to_local(session["closed_at"]) if session["closed_at"] else None,
        "planned_end": to_local(ended) if ended else None,
        "present": [
            {
                **p,
                "role_label": (
                    party_roles.get(p["name"])
                    if p["role"] == "party"
                    else PARTICIPANT_ROLES.get(p["role"], p["role"])
                )
                or PARTICIPANT_ROLES.get(p["role"], p["role"]),
            }
            for p in session["participants"]
            if p["attended"]
        ],
        "recorder": session.get("recorder") or "",
        "ROLES": PARTICIPANT_ROLES,
        "MODES": MODES,
    }
