"""Grouping similar suggestions: a member follows its leader, and a group outlives a leader
that leaves the channel."""

from __future__ import annotations

from typing import Any

from mediation.accounts.services import CurrentUser
from mediation.db import write_transaction
from mediation.i18n import gettext as _
from mediation.suggestions import rules
from mediation.suggestions.common import STAFF_ROLES, SuggestionError, record_suggestion_event
from mediation.suggestions.queries import suggestion_for_staff
from mediation.suggestions.tables import Suggestion

# Where a suggestion stands on the way to a reply; a member joining a group that is further on
# catches up with its leader (a group is routed, answered and concluded as one).
PROGRESS = ("received", "registered", "transferred", "handling", "replied", "concluded")
# A leader in these states can take no members: nothing more will happen to it as a suggestion.
NO_NEW_MEMBERS = ("rerouted", "closed")


def _rank(status: str) -> int:
    return PROGRESS.index(status) if status in PROGRESS else -1


async def group_with(user: CurrentUser, suggestion_id: int, leader_id: int) -> None:
    """Group: the suggestion (and any it led) follows the leader from now on.

    A member that is behind its leader catches up at once (status, department, and the reply
    with its outcome if there is one), each step written on the member's own timeline, so its
    proposer sees it on the tracking page.
    """
    if suggestion_id == leader_id:
        raise SuggestionError(_("A suggestion cannot be grouped with itself."))
    for sid in (suggestion_id, leader_id):
        if await suggestion_for_staff(user, sid) is None:
            raise SuggestionError(_("This suggestion does not exist."))
    leader = (
        await Suggestion.select(Suggestion.group_leader).where(Suggestion.id == leader_id).first()
    )
    if leader is None:
        raise SuggestionError(_("This suggestion does not exist."))
    root_id = leader["group_leader"] or leader_id
    if root_id == suggestion_id:
        raise SuggestionError(_("These suggestions are already in one group."))
    root = await Suggestion.select(*_FOLLOWED).where(Suggestion.id == root_id).first()
    if root is None:
        raise SuggestionError(_("This suggestion does not exist."))
    if root["status"] in NO_NEW_MEMBERS:
        raise SuggestionError(
            _("The leading suggestion was closed or re-routed: it cannot lead a group.")
        )
    joining = await Suggestion.select(
        Suggestion.id,
        Suggestion.status,
        Suggestion.version,
        Suggestion.group_leader,
        Suggestion.tracking_code,
    ).where((Suggestion.id == suggestion_id) | (Suggestion.group_leader == suggestion_id))
    for row in joining:
        if row["status"] not in ("received", "registered"):
            raise SuggestionError(
                _("Only a suggestion that has not been routed yet can join a group.")
            )
    async with write_transaction():
        for row in joining:
            values: dict[Any, Any] = {
                Suggestion.group_leader: root_id,
                Suggestion.version: row["version"] + 1,
            }
            to_status = row["status"]
            if _rank(root["status"]) > _rank(row["status"]):
                to_status = root["status"]
                values.update(
                    {
                        Suggestion.status: root["status"],
                        Suggestion.department: root["department"],
                        Suggestion.outcome: root["outcome"],
                        Suggestion.reply_text: root["reply_text"],
                        Suggestion.replied_at: root["replied_at"],
                    }
                )
            await Suggestion.update(values).where(Suggestion.id == row["id"])
            await record_suggestion_event(
                row["id"], user, "grouped", row["status"], to_status, root["tracking_code"]
            )
            await note_on_leader(
                root_id, user, "member_joined", row["tracking_code"], root["status"]
            )


async def leave_group(user: CurrentUser, suggestion_id: int) -> None:
    """Take a suggestion out of its group: from now on it is routed and answered on its own."""
    row = await suggestion_for_staff(user, suggestion_id)
    if row is None or not user.has_role(*STAFF_ROLES):
        raise SuggestionError(_("This suggestion does not exist."))
    if not row.group_leader:
        raise SuggestionError(_("This suggestion is not in a group."))
    async with write_transaction():
        await Suggestion.update(
            {Suggestion.group_leader: None, Suggestion.version: row.version + 1}
        ).where(Suggestion.id == suggestion_id)
        await record_suggestion_event(suggestion_id, user, "ungrouped", row.status, row.status)
        await note_on_leader(row.group_leader, user, "member_left", row.tracking_code)


async def note_on_leader(
    leader_id: int,
    user: CurrentUser | None,
    action: str,
    member_code: str,
    leader_status: str | None = None,
) -> None:
    """The leader's own timeline says when a suggestion joined or left its group, and who did
    it (``member_joined``/``member_left``, the member's tracking code as the note). Staff only:
    a proposer's tracking page does not list other proposers' suggestions. ``leader_status``
    if the caller has it, else it is read."""
    status = leader_status
    if status is None:
        leader = (
            await Suggestion.select(Suggestion.status).where(Suggestion.id == leader_id).first()
        )
        if leader is None:
            return
        status = leader["status"]
    await record_suggestion_event(
        leader_id, user, action, status, status, member_code, public=False
    )


# What a member takes over from its leader.
_FOLLOWED = (
    Suggestion.id,
    Suggestion.tracking_code,
    Suggestion.status,
    Suggestion.department,
    Suggestion.outcome,
    Suggestion.reply_text,
    Suggestion.replied_at,
)


async def _members(leader_id: int) -> list[dict]:
    return (
        await Suggestion.select(
            Suggestion.id, Suggestion.tracking_code, Suggestion.status, Suggestion.version
        )
        .where(Suggestion.group_leader == leader_id)
        .order_by(Suggestion.id)
    )


async def _members_follow(
    user: CurrentUser, leader_id: int, action: str, facts: dict, values: dict, note: str
) -> None:
    """Apply the leader's move to each member for which the move is legal from where it is.

    A member that went its own way (its proposer had it reopened) is left where it is.
    """
    # Columns compare with == into a query clause, so they are told apart by identity.
    shared = {
        k: v
        for k, v in values.items()
        if k is not Suggestion.version and k is not Suggestion.status
    }
    for member in await _members(leader_id):
        try:
            transition = rules.apply(action, member["status"], **facts)
        except rules.SuggestionRuleError:
            continue
        await Suggestion.update(
            {
                **shared,
                Suggestion.status: transition.to_status.value,
                Suggestion.version: member["version"] + 1,
            }
        ).where(Suggestion.id == member["id"])
        await record_suggestion_event(
            member["id"], user, action, member["status"], transition.to_status.value, note
        )


async def _hand_group_on(user: CurrentUser | None, leader_id: int, why: str) -> None:
    """The leader leaves the suggestion channel: its earliest member leads the others now."""
    members = await _members(leader_id)
    if not members:
        return
    heir, rest = members[0], members[1:]
    await Suggestion.update({Suggestion.group_leader: None}).where(Suggestion.id == heir["id"])
    await record_suggestion_event(
        heir["id"], user, "ungrouped", heir["status"], heir["status"], why
    )
    if rest:
        await Suggestion.update({Suggestion.group_leader: heir["id"]}).where(
            Suggestion.id.is_in([m["id"] for m in rest])
        )
        for member in rest:
            await record_suggestion_event(
                member["id"],
                user,
                "regrouped",
                member["status"],
                member["status"],
                heir["tracking_code"],
                public=False,
            )
