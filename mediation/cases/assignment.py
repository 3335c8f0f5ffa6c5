"""Suggesting mediators for a case: screen out conflicts and full queues, then rank the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial

from mediation.cases.categories import category_label
from mediation.i18n import gettext as _
from mediation.validators import ValidationError, validate_phone

# Skill dominates: the other bonuses together (40 + 20 + 15) stay below it.
SKILL_POINTS = 100
PROXIMITY_POINTS = 40  # same region; minus PROXIMITY_STEP per step of region distance
PROXIMITY_STEP = 15
LOAD_POINTS = 20  # an idle mediator; falls linearly to 0 at full load
DIALECT_POINTS = 15
FAR_AWAY = 99  # distance of a region a mapping does not know


@dataclass(frozen=True)
class Person:
    """A party or a mediator's related person, as far as conflicts of interest go."""

    name: str
    id_number: str | None = None
    phone: str | None = None
    staff_id: int | str | None = None


@dataclass(frozen=True)
class CaseFacts:
    category_code: str
    # Region codes from the county down, joined by "/": "330482/330482001/330482001003".
    region_path: str
    parties: tuple[Person, ...] = ()
    objected_mediator_ids: frozenset[int | str] = frozenset()
    preferred_dialect: str | None = None


@dataclass(frozen=True)
class MediatorFacts:
    id: int | str  # the mediator's staff id
    name: str
    region_path: str
    skills: frozenset[str] = frozenset()
    dialects: frozenset[str] = frozenset()
    available: bool = True
    current_load: int = 0
    max_load: int = 5
    id_number: str | None = None
    phone: str | None = None
    # Relatives, employers, business partners... anyone whose dispute they must not handle.
    related_persons: frozenset[Person] = frozenset()


@dataclass(frozen=True)
class Suggestion:
    mediator: MediatorFacts
    score: float
    reasons: tuple[str, ...]
    # Not a reason to exclude, but someone should look (e.g. a related person's namesake).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exclusion:
    mediator: MediatorFacts
    reasons: tuple[str, ...] = field(default_factory=tuple)


RegionDistance = Callable[[str, str], int] | Mapping[str, int]


def _parts(path: str) -> list[str]:
    return [part for part in path.strip("/").split("/") if part]


def common_depth(a: str, b: str) -> int:
    """How many levels two region paths share from the top."""
    depth = 0
    for left, right in zip(_parts(a), _parts(b), strict=False):
        if left != right:
            break
        depth += 1
    return depth


def path_distance(a: str, b: str) -> int:
    """Steps from the deeper region up to the common ancestor: 0 same, 1 parent or sibling."""
    return max(len(_parts(a)), len(_parts(b))) - common_depth(a, b)


def _id_key(value: str | None) -> str | None:
    return value.strip().upper() if value and value.strip() else None


def _phone_key(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    try:
        return validate_phone(value)
    except ValidationError:
        return "".join(ch for ch in value if ch.isdigit()) or None


def _same_person(a: Person | MediatorFacts, b: Person) -> bool:
    """Same ID number or same phone. A shared name alone is too common (王伟) to count."""
    id_a, id_b = _id_key(a.id_number), _id_key(b.id_number)
    if id_a and id_a == id_b:
        return True
    phone_a, phone_b = _phone_key(a.phone), _phone_key(b.phone)
    return bool(phone_a and phone_a == phone_b)


def _exclusion_reasons(case: CaseFacts, mediator: MediatorFacts) -> list[str]:
    reasons = []
    if any(
        (party.staff_id is not None and str(party.staff_id) == str(mediator.id))
        or _same_person(mediator, party)
        for party in case.parties
    ):
        reasons.append(_("Is a party to this case"))
    if any(
        _same_person(related, party)
        for related in mediator.related_persons
        for party in case.parties
    ):
        reasons.append(_("Related to a party (conflict of interest)"))
    if str(mediator.id) in {str(item) for item in case.objected_mediator_ids}:
        reasons.append(_("A party objected to this mediator"))
    if not mediator.available:
        reasons.append(_("Not available"))
    if mediator.current_load >= mediator.max_load:
        reasons.append(
            _(
                "Fully booked (%(load)s/%(max)s cases)",
                load=mediator.current_load,
                max=mediator.max_load,
            )
        )
    return reasons


def excluded_mediators(case: CaseFacts, candidates: Iterable[MediatorFacts]) -> list[Exclusion]:
    """The candidates who may not take the case, each with why (for "why is X missing?")."""
    result = []
    for mediator in sorted(candidates, key=_tie_break):
        reasons = _exclusion_reasons(case, mediator)
        if reasons:
            result.append(Exclusion(mediator, tuple(reasons)))
    return result


def _tie_break(mediator: MediatorFacts) -> tuple[str, int, int, str]:
    """By name (code point order), then id: numeric ids numerically, so 2 comes before 10."""
    if isinstance(mediator.id, int):
        return (mediator.name, 0, mediator.id, "")
    return (mediator.name, 1, 0, str(mediator.id))


def _proximity_reason(depth: int) -> str | None:
    if depth >= 4:
        return _("Same grid")
    if depth == 3:
        return _("Same village/community")
    if depth == 2:
        return _("Same town/subdistrict")
    if depth == 1:
        return _("Same county")
    return None


def rank_mediators(
    case: CaseFacts,
    candidates: Iterable[MediatorFacts],
    region_distance: RegionDistance | None = None,
) -> list[Suggestion]:
    """Eligible mediators, best first, each with the reasons a person can check.

    ``region_distance`` is a function (case region, mediator region) -> steps, or a mapping
    from a mediator's region path to its distance from the case; by default the distance
    is counted on the region paths.
    """
    distance_of = _distance_function(case, region_distance)
    ranked = []
    for mediator in candidates:
        if _exclusion_reasons(case, mediator):
            continue
        score = 0.0
        reasons = []
        if case.category_code in mediator.skills:
            score += SKILL_POINTS
            reasons.append(
                _("Experienced in %(category)s cases", category=category_label(case.category_code))
            )
        score += max(PROXIMITY_POINTS - PROXIMITY_STEP * distance_of(mediator.region_path), 0)
        proximity = _proximity_reason(common_depth(case.region_path, mediator.region_path))
        if proximity:
            reasons.append(proximity)
        if case.preferred_dialect and case.preferred_dialect in mediator.dialects:
            score += DIALECT_POINTS
            reasons.append(_("Speaks %(dialect)s", dialect=case.preferred_dialect))
        score += LOAD_POINTS * (1 - mediator.current_load / mediator.max_load)
        reasons.append(
            _(
                "Currently %(load)s/%(max)s cases",
                load=mediator.current_load,
                max=mediator.max_load,
            )
        )
        ranked.append(
            Suggestion(mediator, round(score, 3), tuple(reasons), _warnings(case, mediator))
        )
    ranked.sort(key=lambda suggestion: (-suggestion.score, *_tie_break(suggestion.mediator)))
    return ranked


def _distance_function(
    case: CaseFacts, region_distance: RegionDistance | None
) -> Callable[[str], int]:
    if region_distance is None:
        return partial(path_distance, case.region_path)
    if isinstance(region_distance, Mapping):
        return lambda region: region_distance.get(region, FAR_AWAY)
    return partial(region_distance, case.region_path)


def _warnings(case: CaseFacts, mediator: MediatorFacts) -> tuple[str, ...]:
    names = {person.name.strip() for person in mediator.related_persons if person.name.strip()}
    if any(party.name.strip() in names for party in case.parties):
        return (_("A party has the same name as someone related to this mediator; please check."),)
    return ()
