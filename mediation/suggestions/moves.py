"""A suggestion's steps as staff and departments take them: the checked move, a re-route to
a dispute case, and the choices their forms offer."""

from __future__ import annotations

from typing import Any

from mediation.accounts.services import CurrentUser
from mediation.cases.services import CaseError, CaseInput, PartyInput, register_case
from mediation.clock import utc_now
from mediation.db import write_transaction
from mediation.grid.tables import Department, Grid
from mediation.i18n import gettext as _
from mediation.suggestions import rules
from mediation.suggestions.common import STAFF_ROLES, SuggestionError, record_suggestion_event
from mediation.suggestions.grouping import _hand_group_on, _members_follow
from mediation.suggestions.queries import SuggestionDetail, suggestion_for_staff
from mediation.suggestions.tables import Suggestion


async def move(user: CurrentUser, suggestion_id: int, action: str, facts: dict[str, Any]) -> str:
    """One step of the flow, checked by the rules; a reply reaches the whole group."""
    row = await suggestion_for_staff(user, suggestion_id)
    if row is None:
        raise SuggestionError(_("This suggestion does not exist."))
    await _refuse_member(row)
    if (
        user.has_role("handler")
        and not user.has_role(*STAFF_ROLES)
        and action not in ("start_handling", "reply")
    ):
        raise SuggestionError(_("A department handles and replies; other steps are for staff."))
    clean = {k: v for k, v in facts.items() if k in rules.KNOWN_FACTS and v not in (None, "")}
    if action == "transfer" and clean.get("department"):
        if not str(clean["department"]).isdigit() or not await Department.exists().where(
            Department.id == int(clean["department"])
        ):
            raise SuggestionError(_("Choose from the list."), "department")
    try:
        transition = rules.apply(action, row.status, **clean)
    except rules.SuggestionRuleError as exc:
        raise SuggestionError(exc.message, exc.field or "", exc.others) from exc
    values: dict[Any, Any] = {
        Suggestion.status: transition.to_status.value,
        Suggestion.version: row.version + 1,
    }
    if action == "transfer":
        values[Suggestion.department] = int(clean["department"])
    if action == "reply":
        values[Suggestion.outcome] = str(clean["outcome"])
        values[Suggestion.reply_text] = str(clean["reply_text"])[:5000]
        values[Suggestion.replied_at] = utc_now()
    note = str(clean.get("reply_text") or clean.get("advice_text") or "")
    async with write_transaction():
        updated = (
            await Suggestion.update(values)
            .where(Suggestion.id == suggestion_id, Suggestion.version == row.version)
            .returning(Suggestion.id)
        )
        if not updated:
            raise SuggestionError(
                _(
                    "Someone else changed this suggestion a moment ago. "
                    "Reload the page and try again."
                )
            )
        await record_suggestion_event(
            suggestion_id, user, action, row.status, transition.to_status.value, note
        )
        if action in ("close", "reroute"):
            # The leader's proposer withdrew, or it left the channel: the others go on.
            await _hand_group_on(user, suggestion_id, row.tracking_code)
        else:
            await _members_follow(user, suggestion_id, action, clean, values, note)
    return transition.to_status.value


async def _refuse_member(row: SuggestionDetail) -> None:
    if row.group_leader:
        leader = (
            await Suggestion.select(Suggestion.tracking_code)
            .where(Suggestion.id == row.group_leader)
            .first()
        )
        raise SuggestionError(
            _(
                "This suggestion follows %(code)s, the leading suggestion of its group: act on "
                "that one, or take this one out of the group first.",
                code=leader["tracking_code"] if leader else "",
            )
        )


async def reroute_to_case(
    user: CurrentUser,
    suggestion_id: int,
    grid_id: int,
    category: str,
    identity_consent: str = "",
) -> int:
    """A personal grievance is not a suggestion: it becomes a dispute case, linked both ways.

    The proposer's name and phone go into the case for the grid team to contact them. For a
    confidential suggestion they go only with the proposer's consent, recorded here as
    ``identity_consent`` (how and when they agreed); without it the case names an anonymous
    applicant and carries no phone."""
    row = await suggestion_for_staff(user, suggestion_id)
    if row is None:
        raise SuggestionError(_("This suggestion does not exist."))
    await _refuse_member(row)
    try:
        rules.apply("reroute", row.status, reroute_to="dispute_case")
    except rules.SuggestionRuleError as exc:
        raise SuggestionError(exc.message) from exc
    identity_consent = identity_consent.strip()
    if len(identity_consent) > 200:
        raise SuggestionError(
            _("Write at most %(limit)s characters.", limit=200), "identity_consent"
        )
    carries_identity = not row.confidential or bool(identity_consent)
    inp = CaseInput(
        category=category,
        summary=row.title[:200],
        facts=f"{row.reason}\n\n{row.measures}",
        grid_id=grid_id,
        source="suggestion",
        colour="green",
        parties=[
            PartyInput(
                role="applicant",
                name=(row.proposer_name if carries_identity else "")
                or (_("Proposer (identity kept confidential)") if row.confidential else "")
                or _("Proposer"),
                phone=row.proposer_phone if carries_identity else "",
            )
        ],
    )
    try:
        case_id = await register_case(inp, user, f"suggestion-{suggestion_id}")
    except CaseError as exc:
        raise SuggestionError(exc.message, exc.field) from exc
    async with write_transaction():
        await Suggestion.update(
            {
                Suggestion.status: "rerouted",
                Suggestion.case: case_id,
                Suggestion.version: row.version + 1,
            }
        ).where(Suggestion.id == suggestion_id)
        await record_suggestion_event(
            suggestion_id,
            user,
            "reroute",
            row.status,
            "rerouted",
            _("Handled as a dispute by the grid team."),
        )
        if row.confidential:
            await record_suggestion_event(
                suggestion_id,
                user,
                "identity_consent" if carries_identity else "identity_withheld",
                "rerouted",
                "rerouted",
                _(
                    "The proposer agreed that their name and phone go to the case: %(how)s",
                    how=identity_consent,
                )
                if carries_identity
                else _("The case does not name the proposer: no consent was recorded."),
                public=False,
            )
        await _hand_group_on(user, suggestion_id, row.tracking_code)
    from mediation.cases.services import record_event

    await record_event(
        case_id, user, "from_suggestion", changes={"suggestion": [None, row.tracking_code]}
    )
    return case_id


async def department_choices() -> list[tuple[str, str]]:
    rows = (
        await Department.select(Department.id, Department.name)
        .where(Department.active.eq(True))
        .order_by(Department.code)
    )
    return [(str(r["id"]), r["name"]) for r in rows]


async def grid_choices(user: CurrentUser) -> list[tuple[str, str]]:
    query = Grid.select(Grid.id, Grid.name, Grid.region.path).order_by(Grid.code)
    rows = await query
    return [(str(r["id"]), r["name"]) for r in rows if user.can_see_path(r["region.path"])]
