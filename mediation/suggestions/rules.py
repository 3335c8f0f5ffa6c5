"""Rules of people's suggestions: statuses and moves, required elements, receipt codes, clocks."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from mediation.cases.deadlines import add_days, next_working_day
from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext
from mediation.public_codes import SECRET_DIGITS, CodeFormat
from mediation.public_codes import new_secret as new_secret

# --- statuses and moves -----------------------------------------------------------------------


class SuggestionStatus(StrEnum):
    RECEIVED = "received"
    REGISTERED = "registered"
    REROUTED = "rerouted"
    TRANSFERRED = "transferred"
    HANDLING = "handling"
    REPLIED = "replied"
    CONCLUDED = "concluded"
    CLOSED = "closed"


class SuggestionAction(StrEnum):
    REGISTER = "register"
    REROUTE = "reroute"
    TRANSFER = "transfer"
    START_HANDLING = "start_handling"
    REPLY = "reply"
    CONCLUDE = "conclude"
    REOPEN = "reopen"
    CLOSE = "close"


class Outcome(StrEnum):
    """What the department made of the suggestion (信访工作条例 2022, Art. 29)."""

    ADOPTED = "adopted"
    PARTLY_ADOPTED = "partly_adopted"
    FOR_REFERENCE = "for_reference"
    NOT_ADOPTED = "not_adopted"


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    NOT_SATISFIED = "not_satisfied"


class RerouteTo(StrEnum):
    """Where a submission goes that is not a suggestion (Shanghai provisions, Art. 10)."""

    DISPUTE_CASE = "dispute_case"  # a personal grievance becomes a mediation case
    ADVICE = "advice"  # closed with advice: court, arbitration, administrative review …


class CloseReason(StrEnum):
    WITHDRAWN = "withdrawn"
    NO_CONTENT = "no_content"
    OTHER = "other"


class Channel(StrEnum):
    DIRECT_REPORT_POINT = "direct_report_point"
    WEB = "web"
    PHONE = "phone"
    LETTER = "letter"
    HOTLINE_12345 = "hotline_12345"
    OPEN311 = "open311"


STATUS_LABELS = {
    SuggestionStatus.RECEIVED: lazy_gettext("Received"),
    SuggestionStatus.REGISTERED: lazy_gettext("Registered"),
    SuggestionStatus.REROUTED: lazy_gettext("Re-routed: not a suggestion"),
    SuggestionStatus.TRANSFERRED: lazy_gettext("Transferred to a department"),
    SuggestionStatus.HANDLING: lazy_gettext("Being handled"),
    SuggestionStatus.REPLIED: lazy_gettext("Replied"),
    SuggestionStatus.CONCLUDED: lazy_gettext("Concluded"),
    SuggestionStatus.CLOSED: lazy_gettext("Closed without a reply"),
}

ACTION_LABELS = {
    SuggestionAction.REGISTER: lazy_gettext("Register the suggestion"),
    SuggestionAction.REROUTE: lazy_gettext("Re-route: not a suggestion"),
    SuggestionAction.TRANSFER: lazy_gettext("Transfer to a department"),
    SuggestionAction.START_HANDLING: lazy_gettext("Start handling"),
    SuggestionAction.REPLY: lazy_gettext("Reply to the proposer"),
    SuggestionAction.CONCLUDE: lazy_gettext("Conclude"),
    SuggestionAction.REOPEN: lazy_gettext("Reopen after a dissatisfied rating"),
    SuggestionAction.CLOSE: lazy_gettext("Close without a reply"),
}

OUTCOME_LABELS = {
    Outcome.ADOPTED: lazy_gettext("Adopted"),
    Outcome.PARTLY_ADOPTED: lazy_gettext("Partly adopted"),
    Outcome.FOR_REFERENCE: lazy_gettext("Kept for reference"),
    Outcome.NOT_ADOPTED: lazy_gettext("Not adopted"),
}

RATING_LABELS = {
    Rating.SATISFIED: lazy_gettext("Satisfied"),
    Rating.BASICALLY_SATISFIED: lazy_gettext("Basically satisfied"),
    Rating.NOT_SATISFIED: lazy_gettext("Not satisfied"),
}

REROUTE_LABELS = {
    RerouteTo.DISPUTE_CASE: lazy_gettext("Turned into a dispute case"),
    RerouteTo.ADVICE: lazy_gettext("Closed with advice on the right channel"),
}

CLOSE_REASON_LABELS = {
    CloseReason.WITHDRAWN: lazy_gettext("Withdrawn by the proposer"),
    CloseReason.NO_CONTENT: lazy_gettext("No usable content"),
    CloseReason.OTHER: lazy_gettext("Other reason"),
}

CHANNEL_LABELS = {
    Channel.DIRECT_REPORT_POINT: lazy_gettext("Direct-report point"),
    Channel.WEB: lazy_gettext("Website"),
    Channel.PHONE: lazy_gettext("Phone"),
    Channel.LETTER: lazy_gettext("Letter"),
    Channel.HOTLINE_12345: lazy_gettext("12345 hotline"),
    Channel.OPEN311: lazy_gettext("Open311 client"),
}

# (action, from status) -> to status.
_MOVES: dict[tuple[SuggestionAction, SuggestionStatus], SuggestionStatus] = {
    (SuggestionAction.REGISTER, SuggestionStatus.RECEIVED): SuggestionStatus.REGISTERED,
    (SuggestionAction.REROUTE, SuggestionStatus.REGISTERED): SuggestionStatus.REROUTED,
    (SuggestionAction.TRANSFER, SuggestionStatus.REGISTERED): SuggestionStatus.TRANSFERRED,
    # A department that is not the right one sends it back and it goes to another.
    (SuggestionAction.TRANSFER, SuggestionStatus.TRANSFERRED): SuggestionStatus.TRANSFERRED,
    (SuggestionAction.START_HANDLING, SuggestionStatus.TRANSFERRED): SuggestionStatus.HANDLING,
    (SuggestionAction.REPLY, SuggestionStatus.HANDLING): SuggestionStatus.REPLIED,
    (SuggestionAction.CONCLUDE, SuggestionStatus.REPLIED): SuggestionStatus.CONCLUDED,
    (SuggestionAction.REOPEN, SuggestionStatus.REPLIED): SuggestionStatus.HANDLING,
    (SuggestionAction.REOPEN, SuggestionStatus.CONCLUDED): SuggestionStatus.HANDLING,
    (SuggestionAction.CLOSE, SuggestionStatus.RECEIVED): SuggestionStatus.CLOSED,
    (SuggestionAction.CLOSE, SuggestionStatus.REGISTERED): SuggestionStatus.CLOSED,
    (SuggestionAction.CLOSE, SuggestionStatus.TRANSFERRED): SuggestionStatus.CLOSED,
    (SuggestionAction.CLOSE, SuggestionStatus.HANDLING): SuggestionStatus.CLOSED,
}

# Nothing more happens to these, except that a concluded suggestion whose reply the
# proposer rated "not satisfied" may be reopened once.
FINISHED = frozenset(
    {SuggestionStatus.REROUTED, SuggestionStatus.CONCLUDED, SuggestionStatus.CLOSED}
)
RATEABLE = frozenset({SuggestionStatus.REPLIED, SuggestionStatus.CONCLUDED})
MAX_REOPENINGS = 1

KNOWN_FACTS = frozenset(
    {
        "reroute_to",
        "advice_text",
        "department",
        "outcome",
        "reply_text",
        "rating",
        "times_reopened",
        "close_reason",
        "close_text",
    }
)


class SuggestionRuleError(Exception):
    """A refused move or value; ``message`` is translated, ``field`` names the input at fault,
    ``others`` holds the messages of further inputs at fault (field → message), so a form
    shows every mistake at once."""

    def __init__(
        self, message: str, field: str | None = None, others: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.others = others or {}


class IllegalMove(SuggestionRuleError):
    pass


@dataclass(frozen=True)
class Transition:
    """A legal move, ready to be applied and written down in the suggestion's history."""

    action: SuggestionAction
    from_status: SuggestionStatus
    to_status: SuggestionStatus
    details: dict[str, str] = field(default_factory=dict, hash=False)


def is_finished(status: SuggestionStatus | str) -> bool:
    return SuggestionStatus(status) in FINISHED


def allowed_actions(status: SuggestionStatus | str) -> list[SuggestionAction]:
    """The moves the status allows, in workflow order, for the UI to offer.

    ``apply`` still checks the facts a move needs (a reopening needs a dissatisfied rating).
    """
    status = SuggestionStatus(status)
    return [action for action in SuggestionAction if (action, status) in _MOVES]


def apply(
    action: SuggestionAction | str, status: SuggestionStatus | str, **facts: Any
) -> Transition:
    """Check one move; raise ``IllegalMove`` with a translated message if it is refused.

    Facts by action: reroute needs ``reroute_to`` (and ``advice_text`` for advice); transfer
    needs ``department``; reply needs ``outcome`` and ``reply_text``; reopen needs
    ``rating`` ("not_satisfied") and ``times_reopened``; close needs ``close_reason`` (and
    ``close_text`` for "other").
    """
    unknown = set(facts) - KNOWN_FACTS
    if unknown:
        raise TypeError(f"unknown suggestion facts: {', '.join(sorted(unknown))}")
    status = SuggestionStatus(status)
    try:
        action = SuggestionAction(action)
    except ValueError:
        raise IllegalMove(_("Unknown action: %(action)s.", action=action)) from None
    to_status = _MOVES.get((action, status))
    if to_status is None:
        raise IllegalMove(
            _(
                "“%(action)s” is not possible for a suggestion that is “%(status)s”.",
                action=ACTION_LABELS[action],
                status=STATUS_LABELS[status],
            )
        )
    details = _RULES.get(action, _no_facts)(facts)
    return Transition(action, status, to_status, details)


def _no_facts(facts: dict[str, Any]) -> dict[str, str]:
    return {}


def _text(facts: Mapping[str, Any], name: str) -> str:
    return str(facts.get(name) or "").strip()


def _choice(facts: Mapping[str, Any], name: str, enum: type[StrEnum], message: str) -> StrEnum:
    try:
        return enum(str(facts.get(name) or ""))
    except ValueError:
        raise IllegalMove(message, field=name) from None


def _reroute_rules(facts: dict[str, Any]) -> dict[str, str]:
    target = _choice(
        facts,
        "reroute_to",
        RerouteTo,
        _("Choose whether it becomes a dispute case or is closed with advice."),
    )
    details = {"reroute_to": target.value}
    if target is RerouteTo.ADVICE:
        advice = _text(facts, "advice_text")
        if not advice:
            raise IllegalMove(
                _(
                    "Write down the advice given: which channel (court, arbitration, "
                    "administrative review …) the proposer should use."
                ),
                field="advice_text",
            )
        details["advice_text"] = advice
    return details


def _transfer_rules(facts: dict[str, Any]) -> dict[str, str]:
    department = _text(facts, "department")
    if not department:
        raise IllegalMove(_("Choose the department to transfer to."), field="department")
    return {"department": department}


def _reply_rules(facts: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        outcome = _choice(
            facts,
            "outcome",
            Outcome,
            _("Choose the outcome: adopted, partly adopted, kept for reference or not adopted."),
        )
    except IllegalMove as exc:
        errors["outcome"] = exc.message
    reply = _text(facts, "reply_text")
    if not reply:
        errors["reply_text"] = _("Write the reply to the proposer.")
    if errors:
        (field, message), *others = errors.items()
        raise IllegalMove(message, field=field, others=dict(others))
    return {"outcome": outcome.value, "reply_text": reply}


def _reopen_rules(facts: dict[str, Any]) -> dict[str, str]:
    if facts.get("rating") != Rating.NOT_SATISFIED:
        raise IllegalMove(
            _("Only a reply the proposer rated “not satisfied” can be reopened."),
            field="rating",
        )
    times = facts.get("times_reopened")
    if isinstance(times, bool) or not isinstance(times, int) or times < 0:
        raise TypeError("times_reopened must be a whole number")
    if times >= MAX_REOPENINGS:
        raise IllegalMove(
            _("A suggestion can be reopened only once; it has been reopened already."),
            field="times_reopened",
        )
    return {"rating": Rating.NOT_SATISFIED.value}


def _close_rules(facts: dict[str, Any]) -> dict[str, str]:
    reason = _choice(facts, "close_reason", CloseReason, _("Choose why it is closed."))
    details = {"close_reason": reason.value}
    if reason is CloseReason.OTHER:
        text = _text(facts, "close_text")
        if not text:
            raise IllegalMove(_("Describe the other reason."), field="close_text")
        details["close_text"] = text
    return details


_RULES = {
    SuggestionAction.REROUTE: _reroute_rules,
    SuggestionAction.TRANSFER: _transfer_rules,
    SuggestionAction.REPLY: _reply_rules,
    SuggestionAction.REOPEN: _reopen_rules,
    SuggestionAction.CLOSE: _close_rules,
}


def check_rating(
    status: SuggestionStatus | str, rating: Rating | str | None, *, already_rated: bool = False
) -> Rating:
    """Check the proposer's rating of a reply: only after a reply, once per reply."""
    if SuggestionStatus(status) not in RATEABLE:
        raise SuggestionRuleError(
            _("A suggestion can be rated only after it has been replied to."), field="rating"
        )
    if already_rated:
        raise SuggestionRuleError(_("This reply has already been rated."), field="rating")
    try:
        return Rating(rating or "")
    except ValueError:
        raise SuggestionRuleError(
            _("Choose satisfied, basically satisfied or not satisfied."), field="rating"
        ) from None


def may_reopen(rating: Rating | str | None, times_reopened: int) -> bool:
    """Whether a rating lets the proposer have the suggestion handled again."""
    return rating == Rating.NOT_SATISFIED and times_reopened < MAX_REOPENINGS


def reward_allowed(outcome: Outcome | str | None) -> bool:
    """Only adopted or partly adopted suggestions can be rewarded."""
    return outcome in (Outcome.ADOPTED, Outcome.PARTLY_ADOPTED)


@dataclass(frozen=True)
class RewardTier:
    code: str
    label: object  # a lazy translation
    amount_yuan: int


# Annual award tiers seen in one city's measures (domain-rules.md §3, city unidentified):
# a default for counties that set none, not a national rule.
REWARD_TIERS: tuple[RewardTier, ...] = (
    RewardTier("special", lazy_gettext("Special award"), 10_000),
    RewardTier("first", lazy_gettext("First prize"), 3_000),
    RewardTier("second", lazy_gettext("Second prize"), 1_000),
    RewardTier("third", lazy_gettext("Third prize"), 500),
    RewardTier("commemorative", lazy_gettext("Commemorative award"), 100),
)


# --- the submission ---------------------------------------------------------------------------

MAX_TOPIC = 100
MAX_REASON = 2000
MAX_MEASURES = 2000
MAX_NAME = 50
MAX_ADDRESS = 250
MAX_DESCRIPTION = 4000  # Open311's limit on a description (its main reason, here)

_TRUE = {"1", "true", "on", "yes", "y", "是"}
_FALSE = {"", "0", "false", "off", "no", "n", "否"}
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")
_PHONE = re.compile(r"^\+?[0-9]{7,15}$")


def parse_flag(value: Any) -> bool | None:
    """A form's yes/no value as a bool; None when it is neither."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def normalize_phone(value: Any) -> str | None:
    """A phone number with separators removed, or None if it cannot be one.

    Deliberately loose: 7 to 15 digits with an optional leading +, because citizens give
    mobiles, landlines with or without area codes, and extensions.
    """
    text = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", str(value or "")))
    return text if _PHONE.match(text) else None


def parse_degrees(value: Any) -> float | None:
    """Decimal degrees from a form (full-width digits allowed), or None if it is not a number."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not re.fullmatch(r"[+-]?\d{1,3}(\.\d+)?", text):
        return None
    return float(text)


def clean_location(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Where the suggestion is about: an address and, optionally, WGS84 coordinates.

    Coordinates come as a pair (a map client or a phone's location), never one alone.
    """
    cleaned: dict[str, Any] = {"lat": None, "long": None}
    errors: dict[str, str] = {}
    address = str(values.get("address") or "").strip()
    cleaned["address"] = address
    if len(address) > MAX_ADDRESS:
        errors["address"] = _(
            "Use at most %(max)s characters (now %(count)s).", max=MAX_ADDRESS, count=len(address)
        )
    raw = {name: str(values.get(name) or "").strip() for name in ("lat", "long")}
    if not (raw["lat"] or raw["long"]):
        return cleaned, errors
    bounds = {"lat": 90, "long": 180}
    for name in ("lat", "long"):
        if not raw[name]:
            errors[name] = _("Give both latitude and longitude, or neither.")
            continue
        degrees = parse_degrees(raw[name])
        if degrees is None:
            errors[name] = _("Enter decimal degrees, for example 30.6985 or 121.0153.")
        elif not -bounds[name] <= degrees <= bounds[name]:
            errors[name] = _("Enter a value between -%(max)s and %(max)s.", max=bounds[name])
        else:
            cleaned[name] = degrees
    if errors.keys() & {"lat", "long"}:
        cleaned["lat"] = cleaned["long"] = None
    return cleaned, errors


def clean_submission(
    values: Mapping[str, Any], *, reason_limit: int = MAX_REASON
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check a suggestion as the citizen submitted it; return (clean values, errors by field).

    Required elements (Shanghai provisions, Art. 10): topic, main reason and proposed
    measures. Name and phone are optional, but a reply by phone needs a phone. The honeypot
    field ``website`` is invisible to people; if it is filled in, a robot filled in the form
    and the only error is ``spam``.
    """
    if str(values.get("website") or "").strip():
        return {}, {"spam": _("This submission was not accepted.")}
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}

    for name, limit in (("topic", MAX_TOPIC), ("reason", reason_limit), ("measures", MAX_MEASURES)):
        text = str(values.get(name) or "").strip()
        cleaned[name] = text
        if not text:
            errors[name] = _("This field is required.")
        elif len(text) > limit:
            errors[name] = _(
                "Use at most %(max)s characters (now %(count)s).", max=limit, count=len(text)
            )

    name = str(values.get("name") or "").strip()
    cleaned["name"] = name
    if len(name) > MAX_NAME:
        errors["name"] = _(
            "Use at most %(max)s characters (now %(count)s).", max=MAX_NAME, count=len(name)
        )

    for flag in ("reply_by_phone", "confidential", "consent_to_publish"):
        parsed = parse_flag(values.get(flag))
        cleaned[flag] = bool(parsed)
        if parsed is None:
            errors[flag] = _("Choose yes or no.")

    raw_phone = str(values.get("phone") or "").strip()
    phone = normalize_phone(raw_phone) if raw_phone else ""
    cleaned["phone"] = phone or ""
    if raw_phone and phone is None:
        errors["phone"] = _(
            "Enter a phone number of 7 to 15 digits, for example 13800138000 or 0573-85012345."
        )
    elif cleaned["reply_by_phone"] and not phone:
        errors["phone"] = _("A reply by phone needs a phone number.")
    location, location_errors = clean_location(values)
    cleaned.update(location)
    errors.update(location_errors)
    return cleaned, errors


def validate_submission(values: Mapping[str, Any]) -> dict[str, str]:
    """The errors of a submission, by field; empty when it can be accepted."""
    return clean_submission(values)[1]


# --- receipt code and secret ------------------------------------------------------------------

# A receipt code like "JY-2026-7K3Q9M" and the secret printed beside it (mediation.public_codes).
RECEIPT_CODES = CodeFormat("JY")  # 建议
new_tracking_code = RECEIPT_CODES.new
parse_tracking_code = RECEIPT_CODES.parse


def _key_bytes(key: str | bytes) -> bytes:
    if not key:
        raise ValueError("a secret key is needed to hash receipt secrets")
    return key if isinstance(key, bytes) else key.encode("utf-8")


def hash_secret(secret: str, key: str | bytes, *, code: str = "") -> str:
    """HMAC-SHA256 of the secret under the server's key, bound to the receipt code if given.

    Six digits are only a million guesses: without the key a stolen table of hashes is
    useless, and binding the code stops one hash from unlocking another suggestion.
    """
    digits = re.sub(r"\s", "", unicodedata.normalize("NFKC", secret or ""))
    message = f"{parse_tracking_code(code) or code}\x1f{digits}".encode()
    return hmac.new(_key_bytes(key), message, hashlib.sha256).hexdigest()


def verify_secret(
    secret: str | None, hashed: str | None, key: str | bytes, *, code: str = ""
) -> bool:
    """Whether the typed secret matches the stored hash, compared in constant time."""
    if not secret or not hashed:
        return False
    return hmac.compare_digest(hash_secret(secret, key, code=code), hashed)


# --- the web form's key ------------------------------------------------------------------------

# The web form carries a random key (uuid4 hex), made when the form is shown: the same form sent
# twice (a double tap, a form resent after a lost answer) files one suggestion.
_FORM_KEY = re.compile(r"[0-9a-f]{32}")


def parse_form_key(value: str | None) -> str | None:
    """The form's key as the form was given it, or None (a form without one, or a made-up one,
    files as before)."""
    text = (value or "").strip().lower()
    return text if _FORM_KEY.fullmatch(text) else None


def form_key_digest(form_key: str) -> str:
    """What is stored of the key: whoever reads the table cannot send the form again with it
    (and so learn its secret)."""
    return hashlib.sha256(f"suggestion-form\x1f{form_key}".encode()).hexdigest()


def secret_for_form_key(form_key: str, key: str | bytes) -> str:
    """The six-digit secret of a suggestion filed with this form key, under the server's key.

    Derived, not drawn: when a citizen taps twice the browser shows the answer to the second
    POST, which finds the suggestion the first one filed and must show the same secret.
    """
    mac = hmac.new(_key_bytes(key), f"suggestion-secret\x1f{form_key}".encode(), hashlib.sha256)
    return f"{int.from_bytes(mac.digest()[:8], 'big') % 10**SECRET_DIGITS:0{SECRET_DIGITS}d}"


# --- deadlines --------------------------------------------------------------------------------

Unit = Literal["calendar", "working"]


@dataclass(frozen=True)
class SuggestionPolicy:
    """Deadlines for suggestions; the defaults mirror the Zhejiang petition rules (2016).

    Route (register and transfer) within 5 working days (Art. 20); conclude within 30 days
    (Art. 23), extendable once with approval — here by up to 30 more days.
    """

    route_days: int = 5
    route_unit: Unit = "working"
    conclude_days: int = 30
    conclude_unit: Unit = "calendar"
    extension_max_days: int = 30
    extension_unit: Unit = "calendar"
    max_extensions: int = 1
    # Civil Code Art. 203: a calendar-day period ending on a rest day ends on the next
    # working day, as the case deadlines do.
    calendar_due_rolls_to_working_day: bool = True


DEFAULT_POLICY = SuggestionPolicy()


@dataclass(frozen=True)
class SuggestionClocks:
    received_on: date
    route_due: date
    conclude_due: date
    extensions: int = 0
    extension_days: int = 0
    extension_reason: str = ""
    extension_approved_by: str = ""


def _due(policy: SuggestionPolicy, start: date, days: int, unit: Unit) -> date:
    due = add_days(start, days, unit)
    if unit == "calendar" and policy.calendar_due_rolls_to_working_day:
        due = next_working_day(due)
    return due


def suggestion_clocks(
    received_on: date, policy: SuggestionPolicy = DEFAULT_POLICY
) -> SuggestionClocks:
    """When a suggestion received on ``received_on`` must be routed and concluded.

    Both clocks run from receipt (the day itself not counted): stricter than counting the
    conclusion from the department's acceptance, and known to the citizen at once.
    """
    return SuggestionClocks(
        received_on=received_on,
        route_due=_due(policy, received_on, policy.route_days, policy.route_unit),
        conclude_due=_due(policy, received_on, policy.conclude_days, policy.conclude_unit),
    )


def extend(
    clocks: SuggestionClocks,
    *,
    days: int,
    reason: str,
    approved_by: str,
    policy: SuggestionPolicy = DEFAULT_POLICY,
) -> SuggestionClocks:
    """Extend the conclusion deadline: once, with a reason, approved by a named person."""
    if clocks.extensions >= policy.max_extensions:
        raise SuggestionRuleError(
            _("The deadline of a suggestion can be extended only once."), field="days"
        )
    reason = (reason or "").strip()
    if not reason:
        raise SuggestionRuleError(_("Give the reason for the extension."), field="reason")
    approved_by = (approved_by or "").strip()
    if not approved_by:
        raise SuggestionRuleError(
            _("An extension needs the approval of the person in charge."), field="approved_by"
        )
    if (
        isinstance(days, bool)
        or not isinstance(days, int)
        or not 1 <= days <= (policy.extension_max_days)
    ):
        raise SuggestionRuleError(
            _("An extension must be between 1 and %(max)s days.", max=policy.extension_max_days),
            field="days",
        )
    # Extend from the unrolled due date, so a roll-over to Monday is not counted twice.
    base = add_days(clocks.received_on, policy.conclude_days, policy.conclude_unit)
    return replace(
        clocks,
        conclude_due=_due(policy, base, days, policy.extension_unit),
        extensions=clocks.extensions + 1,
        extension_days=days,
        extension_reason=reason,
        extension_approved_by=approved_by,
    )
