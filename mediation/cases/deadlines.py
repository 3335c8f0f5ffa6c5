"""Case deadlines: the policy (data, not code), working-day arithmetic and the clocks of a case.

Working days follow China's public holidays and make-up working days (调休) as stored in the
holiday calendar (``mediation.cases.workdays``: pass one in, or the process's current one is
used). Counting follows the Civil Code (Arts. 201 and 203): the day a period starts is not
counted, and a calendar-day period that ends on a rest day ends on the next working day
instead (policy switch ``calendar_due_rolls_to_working_day``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

from mediation.cases import workdays
from mediation.cases.workdays import HolidayCalendar
from mediation.cases.workflow import CaseLevel
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext, ngettext

DEFAULT_POLICY_PATH = Path(__file__).with_name("deadline_policy.json")

Unit = Literal["calendar", "working"]
UNITS = ("calendar", "working")
# What a clock counts from: the registration, the acceptance, or the start of mediation.
STARTS = ("registered", "accepted", "mediation_started")
COLOURS = ("red", "yellow", "green")
# The largest number the policy may hold (days, or times an extension is allowed): ten years
# is far beyond any rule, and a number beyond the calendar's last day would break every clock.
MAX_DAYS = 3650

CLOCK_LABELS = {
    "accept": lazy_gettext("Acceptance deadline"),
    "handle": lazy_gettext("Handling deadline"),
    "mediation": lazy_gettext("Mediation deadline"),
}


class PolicyError(ValueError):
    """The deadline policy file is unreadable or breaks the schema (an operator's error).

    ``detail`` says what is wrong and where (the path to the entry, as the JSON spells it),
    translated for the administrator; the message also names the source (a file, a row).
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


class DeadlineError(Exception):
    """A refused deadline change; ``message`` is translated for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ClockRule:
    days: int
    unit: Unit
    start: str


@dataclass(frozen=True)
class ClockPatch:
    """Part of a clock rule replaced by a level, category or colour; None keeps the value."""

    days: int | None = None
    unit: Unit | None = None
    start: str | None = None

    def patch(self, rule: ClockRule) -> ClockRule:
        return ClockRule(
            days=rule.days if self.days is None else self.days,
            unit=rule.unit if self.unit is None else self.unit,
            start=rule.start if self.start is None else self.start,
        )


@dataclass(frozen=True)
class Override:
    clocks: Mapping[str, ClockPatch] = field(default_factory=dict)
    notify_on_register: tuple[str, ...] | None = None
    escalate_when_overdue: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ExtensionRule:
    clock: str
    max_days: int
    unit: Unit
    max_times: int


@dataclass(frozen=True)
class Policy:
    clocks: Mapping[str, ClockRule]
    extension: ExtensionRule
    escalate_when_overdue: tuple[str, ...] = ()
    levels: Mapping[str, Override] = field(default_factory=dict)
    categories: Mapping[str, Override] = field(default_factory=dict)
    colours: Mapping[str, Override] = field(default_factory=dict)
    calendar_due_rolls_to_working_day: bool = True


@dataclass(frozen=True)
class Clock:
    name: str
    label: str
    # None when the due date cannot be counted (it would lie beyond the calendar's last day):
    # pages show it as unknown instead of failing.
    due: date | None
    unit: Unit
    days: int
    starts_on: date
    escalates_when_overdue: bool = False
    # Years between start and due whose holiday schedule is not entered: the due date is an
    # estimate counted Monday to Friday, and the clock must say so.
    estimated_years: tuple[int, ...] = ()


@dataclass(frozen=True)
class ClockState:
    """Where a clock stands; days here are calendar days, as people read "3 days overdue".

    A clock whose due date is unknown (``due`` None) is never overdue and has no days left.
    """

    due: date | None
    overdue_days: int
    is_overdue: bool
    remaining_days: int
    done: bool = False


# --- working days -------------------------------------------------------------------------


def is_working_day(day: date, calendar: HolidayCalendar | None = None) -> bool:
    """China's official working days; in a year with no schedule entered, Monday to Friday."""
    return (calendar or workdays.current()).is_working_day(day)


def next_working_day(day: date, calendar: HolidayCalendar | None = None) -> date:
    """The day itself if it is a working day, else the first working day after it."""
    calendar = calendar or workdays.current()
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def add_days(start: date, n: int, unit: Unit, calendar: HolidayCalendar | None = None) -> date:
    """The date ``n`` calendar or working days after ``start`` (negative ``n`` goes back).

    The start day is never counted, so 2 working days after a Friday is the next Tuesday.
    """
    if unit == "calendar":
        return start + timedelta(days=n)
    if unit != "working":
        raise ValueError(f"unknown unit {unit!r}")
    # n working days are at least n calendar days: beyond the first or last day a date can
    # hold that fails at once instead of after counting millions of days.
    if n > (date.max - start).days or -n > (start - date.min).days:
        raise OverflowError("date value out of range")
    return (calendar or workdays.current()).add_working_days(start, n)


# --- the policy file ----------------------------------------------------------------------


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and check a policy file (the packaged default when ``path`` is None)."""
    path = Path(path) if path is not None else DEFAULT_POLICY_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read deadline policy {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise PolicyError(f"deadline policy {path} is not valid JSON: {exc}") from exc
    return parse_policy(data, source=str(path))


@cache
def default_policy() -> Policy:
    return load_policy()


def parse_policy(
    data: Any, source: str = "deadline policy", *, category_codes: Collection[str] | None = None
) -> Policy:
    """Build a ``Policy`` from decoded JSON, refusing anything the schema does not allow.

    With ``category_codes`` (the dispute categories there are), a category the policy names
    must be one of them: a misspelt code would silently drop its rule (a saved policy is
    checked so; one already stored is read without, so retiring a category breaks nothing).
    """
    try:
        return _parse_policy(data, category_codes)
    except _SchemaError as exc:
        raise PolicyError(f"{source}: {exc}", str(exc)) from None


class _SchemaError(Exception):
    """What breaks the schema, translated, with the path to the faulty entry."""


def _shown(value: Any) -> str:
    """A value as the JSON spells it ("labor", 3, true)."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _listed(items: Collection[str]) -> str:
    return ", ".join(items)


_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = {
    "version",
    "calendar_due_rolls_to_working_day",
    "clocks",
    "extension",
    "escalate_when_overdue",
    "levels",
    "categories",
    "colours",
}


def _parse_policy(data: Any, category_codes: Collection[str] | None = None) -> Policy:
    _object(data, _("The policy"), required={"version", "clocks", "extension"}, allowed=_TOP_KEYS)
    if data["version"] != 1:
        raise _SchemaError(_("%(where)s must be 1", where="version"))
    clocks = _object(data["clocks"], "clocks")
    if not clocks:
        raise _SchemaError(_("%(where)s must define at least one clock", where="clocks"))
    rules = {name: _clock_rule(name, value) for name, value in clocks.items()}
    known = set(rules)

    extension = _object(
        data["extension"],
        "extension",
        required={"clock", "max_days", "unit", "max_times"},
        allowed={"clock", "max_days", "unit", "max_times"},
    )
    if extension["clock"] not in known:
        raise _not_a_clock("extension.clock", extension["clock"], known)
    extension_rule = ExtensionRule(
        clock=extension["clock"],
        max_days=_positive_int(extension["max_days"], "extension.max_days", allow_zero=True),
        unit=_unit(extension["unit"], "extension.unit"),
        max_times=_positive_int(extension["max_times"], "extension.max_times", allow_zero=True),
    )

    rolls = data.get("calendar_due_rolls_to_working_day", True)
    if not isinstance(rolls, bool):
        raise _SchemaError(
            _("%(where)s must be true or false", where="calendar_due_rolls_to_working_day")
        )

    levels = _overrides(data.get("levels", {}), "levels", known)
    for key in levels:
        if key not in set(CaseLevel):
            where = "levels." + key
            raise _SchemaError(
                _(
                    "%(where)s is not a case level (%(choices)s)",
                    where=where,
                    choices=_listed([level.value for level in CaseLevel]),
                )
            )
    colours = _overrides(data.get("colours", {}), "colours", known)
    for key in colours:
        if key not in COLOURS:
            where = "colours." + key
            raise _SchemaError(
                _(
                    "%(where)s is not a risk colour (%(choices)s)",
                    where=where,
                    choices=_listed(COLOURS),
                )
            )
    categories = _overrides(data.get("categories", {}), "categories", known)
    if category_codes is not None:
        unknown = sorted(set(categories) - set(category_codes))
        if unknown:
            raise _SchemaError(
                ngettext(
                    "%(where)s: %(codes)s is not the code of a dispute category (the codes are "
                    "listed under Dispute categories)",
                    "%(where)s: %(codes)s are not codes of dispute categories (the codes are "
                    "listed under Dispute categories)",
                    len(unknown),
                    where="categories",
                    codes=_listed(unknown),
                )
            )

    return Policy(
        clocks=rules,
        extension=extension_rule,
        escalate_when_overdue=_clock_names(
            data.get("escalate_when_overdue", []), "escalate_when_overdue", known
        ),
        levels=levels,
        categories=categories,
        colours=colours,
        calendar_due_rolls_to_working_day=rolls,
    )


def _object(
    value: Any,
    where: str,
    required: Collection[str] = (),
    allowed: Collection[str] | None = None,
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _SchemaError(_("%(where)s must be an object ({…})", where=where))
    missing = set(required) - set(value)
    if missing:
        raise _SchemaError(
            _("%(where)s lacks %(keys)s", where=where, keys=_listed(sorted(missing)))
        )
    if allowed is not None:
        extra = set(value) - set(allowed)
        if extra:
            raise _SchemaError(
                _(
                    "%(where)s has unknown keys: %(keys)s (allowed: %(allowed)s)",
                    where=where,
                    keys=_listed(sorted(extra)),
                    allowed=_listed(sorted(allowed)),
                )
            )
    return value


def _positive_int(value: Any, where: str, allow_zero: bool = False) -> int:
    # bool is an int in Python; "days": true is a typo, not 1.
    lowest = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= MAX_DAYS:
        raise _SchemaError(
            _(
                "%(where)s must be a whole number from %(low)s to %(high)s, not %(value)s",
                where=where,
                low=lowest,
                high=MAX_DAYS,
                value=_shown(value),
            )
        )
    return value


def _unit(value: Any, where: str) -> Unit:
    if value not in UNITS:
        raise _not_one_of(where, value, UNITS)
    return value


def _start(value: Any, where: str) -> str:
    if value not in STARTS:
        raise _not_one_of(where, value, STARTS)
    return value


def _identifier(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise _SchemaError(
            _(
                "%(where)s: %(value)s is not a lower-case name (letters a-z, digits and _, "
                "starting with a letter)",
                where=where,
                value=_shown(value),
            )
        )
    return value


# Whom a registration can notify at once (mediation.cases.registration): the grid's police
# officer and the town's mediation centre.
NOTIFY_TARGETS = ("police", "town_centre")


def _one_of(value: Any, where: str, choices: Collection[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _not_one_of(where, value, choices)
    return value


def _not_one_of(where: str, value: Any, choices: Collection[str]) -> _SchemaError:
    return _SchemaError(
        _(
            "%(where)s must be one of %(choices)s, not %(value)s",
            where=where,
            choices=_listed(choices),
            value=_shown(value),
        )
    )


def _not_a_clock(where: str, name: Any, known: Collection[str]) -> _SchemaError:
    return _SchemaError(
        _(
            "%(where)s: %(value)s is not a defined clock (%(choices)s)",
            where=where,
            value=_shown(name),
            choices=_listed(known),
        )
    )


def _clock_rule(name: str, value: Any) -> ClockRule:
    where = f"clocks.{_identifier(name, 'clocks')}"
    _object(value, where, required={"days", "unit", "start"}, allowed={"days", "unit", "start"})
    return ClockRule(
        days=_positive_int(value["days"], f"{where}.days"),
        unit=_unit(value["unit"], f"{where}.unit"),
        start=_start(value["start"], f"{where}.start"),
    )


def _clock_names(value: Any, where: str, known: set[str]) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _SchemaError(_("%(where)s must be a list of clock names ([…])", where=where))
    for name in value:
        if name not in known:
            raise _not_a_clock(where, name, known)
    return tuple(value)


def _overrides(value: Any, where: str, known: set[str]) -> dict[str, Override]:
    result = {}
    for key, body in _object(value, where).items():
        here = f"{where}.{_identifier(key, where)}"
        _object(body, here, allowed={"clocks", "notify_on_register", "escalate_when_overdue"})
        patches = {}
        for name, patch in _object(body.get("clocks", {}), f"{here}.clocks").items():
            at = f"{here}.clocks.{name}"
            if name not in known:
                raise _not_a_clock(f"{here}.clocks", name, known)
            _object(patch, at, allowed={"days", "unit", "start"})
            if not patch:
                raise _SchemaError(_("%(where)s changes nothing", where=at))
            patches[name] = ClockPatch(
                days=_positive_int(patch["days"], f"{at}.days") if "days" in patch else None,
                unit=_unit(patch["unit"], f"{at}.unit") if "unit" in patch else None,
                start=_start(patch["start"], f"{at}.start") if "start" in patch else None,
            )
        notify = body.get("notify_on_register")
        if notify is not None:
            if not isinstance(notify, list):
                where = here + ".notify_on_register"
                raise _SchemaError(_("%(where)s must be a list ([…])", where=where))
            notify = tuple(
                _one_of(item, f"{here}.notify_on_register", NOTIFY_TARGETS) for item in notify
            )
        escalate = body.get("escalate_when_overdue")
        if escalate is not None:
            escalate = _clock_names(escalate, f"{here}.escalate_when_overdue", known)
        result[key] = Override(patches, notify, escalate)
    return result


# --- the clocks of a case -----------------------------------------------------------------


def _layers(
    policy: Policy, category_code: str, level: str, colour: str | None = None
) -> list[Override]:
    """The overrides that apply, least specific first: level, category, then colour."""
    layers = (
        policy.levels.get(str(level)),
        policy.categories.get(category_code),
        policy.colours.get(colour) if colour else None,
    )
    return [layer for layer in layers if layer is not None]


def escalating_clocks(policy: Policy, category_code: str, colour: str, level: str) -> set[str]:
    """Clocks whose overdue state should escalate the case; the most specific list wins."""
    names = policy.escalate_when_overdue
    for layer in _layers(policy, category_code, level, colour):
        if layer.escalate_when_overdue is not None:
            names = layer.escalate_when_overdue
    return set(names)


def notifications_on_register(
    policy: Policy, category_code: str, colour: str, level: str
) -> list[str]:
    """Who must be told as soon as such a case is registered (e.g. police, town centre)."""
    targets: list[str] = []
    for layer in _layers(policy, category_code, level, colour):
        for target in layer.notify_on_register or ():
            if target not in targets:
                targets.append(target)
    return targets


def compute_clocks(
    policy: Policy,
    registered_on: date,
    category_code: str,
    colour: str,
    level: str,
    started_mediation_on: date | None = None,
    extension_days: int = 0,
    *,
    accepted_on: date | None = None,
    calendar: HolidayCalendar | None = None,
) -> list[Clock]:
    """The case's clocks in policy order; a clock whose start has not happened is left out.

    The base rule is replaced by the level's, then the category's. A colour can only
    tighten: when its rule would end later than that, the earlier due date stands. A clock
    that crosses a year with no holiday schedule names that year in ``estimated_years``.
    """
    calendar = calendar or workdays.current()
    if extension_days < 0 or extension_days > policy.extension.max_days:
        raise DeadlineError(
            _(
                "An extension can be at most %(max)s days.",
                max=policy.extension.max_days,
            )
        )
    starts = {
        "registered": registered_on,
        "accepted": accepted_on,
        "mediation_started": started_mediation_on,
    }
    layers = _layers(policy, category_code, level)
    colour_layer = policy.colours.get(colour)
    escalating = escalating_clocks(policy, category_code, colour, level)
    clocks = []
    for name, base in policy.clocks.items():
        rule = base
        for layer in layers:
            if name in layer.clocks:
                rule = layer.clocks[name].patch(rule)
        candidates = [rule]
        if colour_layer is not None and name in colour_layer.clocks:
            candidates.append(colour_layer.clocks[name].patch(rule))
        extra = extension_days if name == policy.extension.clock else 0
        timed = [
            (_due(policy, candidate, start, extra, calendar), candidate, start)
            for candidate in candidates
            if (start := starts[candidate.start]) is not None
        ]
        if not timed:
            continue
        # A due date beyond the calendar (None) is later than any other.
        due, rule, starts_on = min(
            timed, key=lambda entry: (entry[0] is None, entry[0] or date.min)
        )
        clocks.append(
            Clock(
                name=name,
                label=str(CLOCK_LABELS.get(name, name)),
                due=due,
                unit=rule.unit,
                days=rule.days,
                starts_on=starts_on,
                escalates_when_overdue=name in escalating,
                estimated_years=calendar.missing_years(starts_on, due) if due else (),
            )
        )
    return clocks


def _due(
    policy: Policy,
    rule: ClockRule,
    start: date,
    extension_days: int,
    calendar: HolidayCalendar,
) -> date | None:
    """The due date, or None when it would lie beyond the last day a date can hold."""
    try:
        due = add_days(start, rule.days, rule.unit, calendar)
        if extension_days:
            due = add_days(due, extension_days, policy.extension.unit, calendar)
        last_unit = policy.extension.unit if extension_days else rule.unit
        if last_unit == "calendar" and policy.calendar_due_rolls_to_working_day:
            due = next_working_day(due, calendar)
    except OverflowError:
        return None
    return due


def clock_state(clock: Clock, today: date, done_on: date | None = None) -> ClockState:
    """Overdue or remaining calendar days; the due date itself still counts as on time.

    A finished clock (``done_on``) is judged on the day it was done, not on today.
    """
    if clock.due is None:
        return ClockState(
            due=None,
            overdue_days=0,
            is_overdue=False,
            remaining_days=0,
            done=done_on is not None,
        )
    until = done_on or today
    late = (until - clock.due).days
    return ClockState(
        due=clock.due,
        overdue_days=max(late, 0),
        is_overdue=late > 0,
        remaining_days=0 if done_on else max(-late, 0),
        done=done_on is not None,
    )


def extend_mediation(
    policy: Policy,
    *,
    days: int,
    times_extended: int,
    applicant_consents: bool,
    respondent_consents: bool,
) -> int:
    """Check a request to extend the mediation period; return the days to add.

    Mediation is normally concluded within a month and may be extended once, only if both
    sides agree (MoJ rules 2002 Art. 33; Ningbo regulations Art. 27).
    """
    rule = policy.extension
    if times_extended >= rule.max_times:
        if rule.max_times == 1:
            raise DeadlineError(_("The mediation period can be extended only once."))
        raise DeadlineError(
            _("The mediation period can be extended at most %(times)s times.", times=rule.max_times)
        )
    if not (applicant_consents and respondent_consents):
        raise DeadlineError(_("Extending the mediation period needs the consent of both sides."))
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= rule.max_days:
        raise DeadlineError(
            _("An extension must be between 1 and %(max)s days.", max=rule.max_days)
        )
    return days
