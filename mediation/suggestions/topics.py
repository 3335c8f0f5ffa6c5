"""Thematic calls for suggestions (专项征集): the open ones, and publishing one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mediation.accounts.services import CurrentUser
from mediation.cases.services import today
from mediation.i18n import gettext as _
from mediation.suggestions.common import SuggestionError
from mediation.suggestions.tables import SuggestionTopic


@dataclass(frozen=True, slots=True)
class TopicRow:
    """专项征集: a thematic call for suggestions (see ``tables.SuggestionTopic``)."""

    id: int
    title: str
    description: str
    opens_on: date
    closes_on: date
    published: bool
    created_by: int | None


async def open_topics(on: date | None = None) -> list[TopicRow]:
    """The published calls open on ``on`` (today), the one closing soonest first."""
    on = on or today()
    rows = (
        await SuggestionTopic.select()
        .where(
            SuggestionTopic.published.eq(True),
            SuggestionTopic.opens_on <= on,
            SuggestionTopic.closes_on >= on,
        )
        .order_by(SuggestionTopic.closes_on)
    )
    return [TopicRow(**r) for r in rows]


async def create_topic(
    user: CurrentUser, title: str, description: str, opens_on: date, closes_on: date
) -> int:
    if not title.strip():
        raise SuggestionError(_("This field is required."), "title")
    if closes_on < opens_on:
        raise SuggestionError(
            _("The closing date must not be before the opening date."), "closes_on"
        )
    topic = SuggestionTopic(
        title=title.strip()[:100],
        description=description.strip()[:2000],
        opens_on=opens_on,
        closes_on=closes_on,
        created_by=user.id,
    )
    await topic.save()
    return topic.id
