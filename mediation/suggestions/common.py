"""What the parts of the suggestions service share: the policy, the error every rule
raises, the secrets' digests and the timeline's writer."""

from __future__ import annotations

import hashlib

from mediation.accounts.services import CurrentUser
from mediation.roles import AREA_ROLES
from mediation.settings import get_settings
from mediation.suggestions import rules
from mediation.suggestions.tables import SuggestionEvent

POLICY = rules.SuggestionPolicy()
STAFF_ROLES = AREA_ROLES


class SuggestionError(Exception):
    """A refused step; ``message`` is shown beside ``field`` (atop the form without one), and
    ``others`` (field → message) beside further fields at fault."""

    def __init__(self, message: str, field: str = "", others: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.others = others or {}


def signing_key() -> str:
    """The server's secret, which tracking secrets are hashed and derived with."""
    return get_settings().secret_key


def digest_token(token: str) -> str:
    return hashlib.sha256(("device:" + token).encode()).hexdigest()


async def record_suggestion_event(
    suggestion_id: int,
    actor: CurrentUser | None,
    action: str,
    from_status: str,
    to_status: str,
    note: str = "",
    public: bool = True,
) -> None:
    """A line on the suggestion's timeline; ``public`` lines show on the proposer's tracking
    page too."""
    await SuggestionEvent.insert(
        SuggestionEvent(
            suggestion=suggestion_id,
            actor=actor.id if actor else None,
            action=action,
            from_status=from_status,
            to_status=to_status,
            note=note[:2000],
            public=public,
        )
    )
