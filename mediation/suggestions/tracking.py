"""What the proposer sees with the receipt code and secret, and their rating of the reply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from mediation.db import write_transaction
from mediation.i18n import gettext as _
from mediation.suggestions import rules
from mediation.suggestions.common import SuggestionError, record_suggestion_event, signing_key
from mediation.suggestions.grouping import note_on_leader
from mediation.suggestions.tables import Suggestion, SuggestionEvent


@dataclass(frozen=True, slots=True)
class PublicStep:
    """A step of a suggestion's timeline the citizen may see."""

    at: datetime
    action: str
    from_status: str
    to_status: str


@dataclass(frozen=True, slots=True)
class TrackedSuggestion:
    """What the citizen sees of their suggestion with the receipt code and secret."""

    id: int
    tracking_code: str
    title: str
    status: str
    outcome: str
    reply_text: str
    replied_at: datetime | None
    rating: str
    times_reopened: int
    received_on: date
    department_name: str | None
    conclude_due: date
    case_number: str | None
    events: list[PublicStep]
    can_rate: bool


async def track(code: str, secret: str) -> TrackedSuggestion | None:
    """What the citizen sees with the receipt code and secret; a wrong secret reveals nothing."""
    parsed = rules.parse_tracking_code(code)
    row = None
    if parsed:
        row = (
            await Suggestion.select(
                Suggestion.id,
                Suggestion.tracking_code,
                Suggestion.secret_digest,
                Suggestion.title,
                Suggestion.status,
                Suggestion.outcome,
                Suggestion.reply_text,
                Suggestion.replied_at,
                Suggestion.rating,
                Suggestion.times_reopened,
                Suggestion.received_on,
                Suggestion.department.name,
                Suggestion.conclude_due,
                Suggestion.case.number,
            )
            .where(Suggestion.tracking_code == parsed)
            .first()
        )
    # Verify even when there is no such code, so timing does not tell codes apart.
    ok = rules.verify_secret(
        secret, row["secret_digest"] if row else "0" * 64, signing_key(), code=parsed or ""
    )
    if row is None or not ok:
        return None
    events = (
        await SuggestionEvent.select(
            SuggestionEvent.at,
            SuggestionEvent.action,
            SuggestionEvent.from_status,
            SuggestionEvent.to_status,
        )
        .where(SuggestionEvent.suggestion == row["id"], SuggestionEvent.public.eq(True))
        .order_by(SuggestionEvent.id)
    )
    return TrackedSuggestion(
        id=row["id"],
        tracking_code=row["tracking_code"],
        title=row["title"],
        status=row["status"],
        outcome=row["outcome"],
        reply_text=row["reply_text"],
        replied_at=row["replied_at"],
        rating=row["rating"],
        times_reopened=row["times_reopened"],
        received_on=row["received_on"],
        department_name=row["department.name"],
        conclude_due=row["conclude_due"],
        case_number=row["case.number"],
        events=[PublicStep(**e) for e in events],
        can_rate=row["status"] in {s.value for s in rules.RATEABLE} and not row["rating"],
    )


async def rate(code: str, secret: str, rating: str) -> bool:
    """The citizen rates the reply; "not satisfied" reopens it, once. Returns whether it was
    reopened."""
    found = await track(code, secret)
    if found is None:
        raise SuggestionError(_("The code or the secret is not right."))
    try:
        checked = rules.check_rating(found.status, rating, already_rated=bool(found.rating))
    except rules.SuggestionRuleError as exc:
        raise SuggestionError(exc.message, "rating") from exc
    reopen = rules.may_reopen(checked, found.times_reopened)
    async with write_transaction():
        await Suggestion.update({Suggestion.rating: str(checked)}).where(Suggestion.id == found.id)
        await record_suggestion_event(
            found.id,
            None,
            "rated",
            found.status,
            found.status,
            str(rules.RATING_LABELS[checked]),
        )
        if reopen:
            move = rules.apply(
                "reopen",
                found.status,
                rating=str(checked),
                times_reopened=found.times_reopened,
            )
            await Suggestion.update(
                {
                    Suggestion.status: move.to_status.value,
                    Suggestion.times_reopened: found.times_reopened + 1,
                    Suggestion.rating: "",
                }
            ).where(Suggestion.id == found.id)
            await record_suggestion_event(
                found.id, None, "reopen", found.status, move.to_status.value
            )
            # Handled again for this proposer alone: it no longer follows a leader, and a
            # leader's own reopening leaves its members' answers as they are.
            leader = (
                await Suggestion.select(Suggestion.group_leader)
                .where(Suggestion.id == found.id)
                .first()
            )
            left = (
                await Suggestion.update({Suggestion.group_leader: None})
                .where(Suggestion.id == found.id, Suggestion.group_leader.is_not_null())
                .returning(Suggestion.id)
            )
            if left:
                await record_suggestion_event(
                    found.id, None, "ungrouped", move.to_status.value, move.to_status.value
                )
                if leader and leader["group_leader"]:
                    await note_on_leader(
                        leader["group_leader"], None, "member_left", found.tracking_code
                    )
    return reopen
