"""The public board: adopted suggestions whose proposers agreed to publication."""

from __future__ import annotations

from mediation.suggestions.tables import Suggestion

BOARD_OUTCOMES = ("adopted", "partly_adopted")


def _board_query(query):
    return query.where(
        Suggestion.outcome.is_in(list(BOARD_OUTCOMES)),
        Suggestion.consent_to_publish.eq(True),
    )


async def board_departments() -> list[tuple[int, str]]:
    """Departments that have answered at least one published suggestion (the board's filter)."""
    rows = await _board_query(
        Suggestion.select(Suggestion.department.id, Suggestion.department.name).distinct()
    )
    return sorted(
        {(r["department.id"], r["department.name"]) for r in rows if r["department.id"]},
        key=lambda pair: pair[1],
    )


async def public_board(
    limit: int = 50, category: str = "", outcome: str = "", department: int | None = None
) -> list[dict]:
    """Adopted suggestions whose proposers agreed to publication: topic, gist, outcome, body;
    citizens may narrow them by subject area, outcome and answering department."""
    query = _board_query(
        Suggestion.select(
            Suggestion.title,
            Suggestion.measures,
            Suggestion.outcome,
            Suggestion.category,
            Suggestion.department.name,
            Suggestion.replied_at,
        )
    )
    if category:
        query = query.where(Suggestion.category == category)
    if outcome in BOARD_OUTCOMES:
        query = query.where(Suggestion.outcome == outcome)
    if department:
        query = query.where(Suggestion.department == department)
    rows = await query.order_by(Suggestion.replied_at, ascending=False).limit(limit)
    for row in rows:
        row["gist"] = _gist(row.pop("measures"))
        row["title"] = _gist(row["title"], 100)
    return rows


def _gist(text: str, limit: int = 120) -> str:
    from mediation.suggestions.open311 import scrub

    text = scrub(text)
    return text if len(text) <= limit else text[:limit] + "…"
