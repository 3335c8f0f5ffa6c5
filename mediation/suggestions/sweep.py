"""The periodic sweep's part for suggestions: clocks past their deadline are marked."""

from __future__ import annotations

from datetime import date

from mediation.cases.services import today
from mediation.suggestions.tables import Suggestion


async def sweep_suggestions(on: date | None = None) -> int:
    """Mark suggestions past their routing or conclusion deadline; safe to repeat."""
    on = on or today()
    late_route = Suggestion.status.is_in(["received", "registered"]) & (Suggestion.route_due < on)
    late_conclude = Suggestion.status.is_in(
        ["received", "registered", "transferred", "handling"]
    ) & (Suggestion.conclude_due < on)
    rows = (
        await Suggestion.update({Suggestion.overdue: True})
        .where(Suggestion.overdue.eq(False) & (late_route | late_conclude))
        .returning(Suggestion.id)
    )
    return len(rows)
