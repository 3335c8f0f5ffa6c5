"""The case state machine: which moves are legal from which status, and the rules they need."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext


class CaseStatus(StrEnum):
    REGISTERED = "registered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    MEDIATING = "mediating"
    SETTLED = "settled"
    TERMINATED = "terminated"
    PERFORMING = "performing"
    PERFORMED = "performed"
    BREACHED = "breached"
    CLOSED = "closed"


class CaseLevel(StrEnum):
    """The escalation ladder, lowest first; compare with ``rank``, not with ``<`` on strings."""

    GRID = "grid"
    COMMUNITY = "community"
    TOWN = "town"
    COUNTY = "county"

    @property
    def rank(self) -> int:
        return _LEVEL_ORDER.index(self)

    def next_level(self) -> CaseLevel | None:
        """One rung up, or None at the county (the top)."""
        index = self.rank + 1
        return _LEVEL_ORDER[index] if index < len(_LEVEL_ORDER) else None


_LEVEL_ORDER = (CaseLevel.GRID, CaseLevel.COMMUNITY, CaseLevel.TOWN, CaseLevel.COUNTY)


class CaseAction(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    START_MEDIATION = "start_mediation"
    SETTLE = "settle"
    TERMINATE = "terminate"
    START_PERFORMANCE = "start_performance"
    RECORD_PERFORMED = "record_performed"
    RECORD_BREACH = "record_breach"
    REMEDIATE = "remediate"
    CLOSE = "close"
    ESCALATE = "escalate"


class DeclineReason(StrEnum):
    """Why a committee does not take a case (MoJ 2002 rules Art. 22)."""

    OUT_OF_SCOPE = "out_of_scope"
    BEFORE_COURT = "before_court"
    BEFORE_POLICE = "before_police"
    BEFORE_AGENCY = "before_agency"
    OTHER = "other"


class TerminationReason(StrEnum):
    """Court online-mediation rules Art. 25 and Ningbo regulations Art. 23."""

    PARTY_REFUSES = "party_refuses"
    PARTY_UNREACHABLE = "party_unreachable"
    POSITIONS_TOO_FAR = "positions_too_far"
    DEADLINE_PASSED = "deadline_passed"
    REFUSES_TO_SIGN = "refuses_to_sign"
    OTHER = "other"


class ReferralAdvice(StrEnum):
    """The other channel a failed mediation points the parties to (Art. 26)."""

    LITIGATION = "litigation"
    ARBITRATION = "arbitration"
    ADMINISTRATIVE = "administrative"
    LABOUR_ARBITRATION = "labour_arbitration"


# Arbitration Law Art. 3: marriage, adoption, guardianship, maintenance and succession are not
# arbitrable, and commercial arbitration needs an agreement between parties of equal standing
# over contracts or property rights; labour disputes go to labour arbitration instead.
_ARBITRABLE = frozenset({"contract", "business", "consumer", "property_mgmt", "housing_land"})


def channels_for(category: str) -> list[ReferralAdvice]:
    """The channels a termination notice may point to for a dispute of this category."""
    channels = [ReferralAdvice.LITIGATION, ReferralAdvice.ADMINISTRATIVE]
    if category == "labour":
        channels.insert(0, ReferralAdvice.LABOUR_ARBITRATION)
    elif category in _ARBITRABLE:
        channels.insert(1, ReferralAdvice.ARBITRATION)
    return channels


class AgreementForm(StrEnum):
    WRITTEN = "written"
    ORAL = "oral"


STATUS_LABELS = {
    CaseStatus.REGISTERED: lazy_gettext("Registered"),
    CaseStatus.ACCEPTED: lazy_gettext("Accepted"),
    CaseStatus.DECLINED: lazy_gettext("Declined"),
    CaseStatus.MEDIATING: lazy_gettext("Mediating"),
    CaseStatus.SETTLED: lazy_gettext("Settled"),
    CaseStatus.TERMINATED: lazy_gettext("Mediation terminated"),
    CaseStatus.PERFORMING: lazy_gettext("Performing"),
    CaseStatus.PERFORMED: lazy_gettext("Performed"),
    CaseStatus.BREACHED: lazy_gettext("Not performed"),
    CaseStatus.CLOSED: lazy_gettext("Closed"),
}

# What a case file's cover writes as the result of the mediation (调解结果): the outcome,
# and for an agreement whether it was performed; a case still open has no result yet.
_AGREED = lazy_gettext("Agreement reached")
_NO_RESULT_YET = lazy_gettext("Not concluded yet")
RESULT_LABELS = {
    CaseStatus.SETTLED: _AGREED,
    CaseStatus.PERFORMING: lazy_gettext("Agreement reached, being performed"),
    CaseStatus.PERFORMED: lazy_gettext("Agreement reached and performed"),
    CaseStatus.BREACHED: lazy_gettext("Agreement reached, not performed"),
}


def mediation_result(status: str, outcome: str) -> str:
    """调解结果 for a case file: by the outcome of the mediation, not the case's status alone
    (a breached agreement is still an agreement reached; a closed case keeps its outcome)."""
    if outcome == CaseStatus.TERMINATED:
        return str(STATUS_LABELS[CaseStatus.TERMINATED])
    if outcome == CaseStatus.SETTLED:
        return str(RESULT_LABELS.get(CaseStatus(status), _AGREED))
    if is_open(status):
        # Where an open case stands (受理, 调解中) is a status, not a result.
        return str(_NO_RESULT_YET)
    return str(STATUS_LABELS[CaseStatus(status)])


LEVEL_LABELS = {
    CaseLevel.GRID: lazy_gettext("Grid level"),
    CaseLevel.COMMUNITY: lazy_gettext("Village/community level"),
    CaseLevel.TOWN: lazy_gettext("Town/subdistrict level"),
    CaseLevel.COUNTY: lazy_gettext("County level"),
}

ACTION_LABELS = {
    CaseAction.ACCEPT: lazy_gettext("Accept the case"),
    CaseAction.DECLINE: lazy_gettext("Decline the case"),
    CaseAction.START_MEDIATION: lazy_gettext("Start mediation"),
    CaseAction.SETTLE: lazy_gettext("Record an agreement"),
    CaseAction.TERMINATE: lazy_gettext("Terminate mediation"),
    CaseAction.START_PERFORMANCE: lazy_gettext("Start performance"),
    CaseAction.RECORD_PERFORMED: lazy_gettext("Record performance"),
    CaseAction.RECORD_BREACH: lazy_gettext("Record non-performance"),
    CaseAction.REMEDIATE: lazy_gettext("Mediate again"),
    CaseAction.CLOSE: lazy_gettext("Close the case"),
    CaseAction.ESCALATE: lazy_gettext("Escalate to the next level"),
}

DECLINE_REASON_LABELS = {
    DeclineReason.OUT_OF_SCOPE: lazy_gettext("Outside the scope of people's mediation"),
    DeclineReason.BEFORE_COURT: lazy_gettext("Already accepted or decided by a court"),
    DeclineReason.BEFORE_POLICE: lazy_gettext("Already accepted or handled by the police"),
    DeclineReason.BEFORE_AGENCY: lazy_gettext(
        "Already accepted or handled by an administrative body"
    ),
    DeclineReason.OTHER: lazy_gettext("Other reason"),
}

TERMINATION_REASON_LABELS = {
    TerminationReason.PARTY_REFUSES: lazy_gettext("A party refuses or withdraws from mediation"),
    TerminationReason.PARTY_UNREACHABLE: lazy_gettext("A party cannot be reached"),
    TerminationReason.POSITIONS_TOO_FAR: lazy_gettext("The parties' positions are too far apart"),
    TerminationReason.DEADLINE_PASSED: lazy_gettext(
        "The time limit passed without an agreed extension"
    ),
    TerminationReason.REFUSES_TO_SIGN: lazy_gettext("A party refuses to sign the agreement"),
    TerminationReason.OTHER: lazy_gettext("Other reason"),
}

REFERRAL_ADVICE_LABELS = {
    ReferralAdvice.LITIGATION: lazy_gettext("Bring a lawsuit"),
    ReferralAdvice.ARBITRATION: lazy_gettext("Apply for arbitration"),
    ReferralAdvice.ADMINISTRATIVE: lazy_gettext("Go through the administrative channel"),
    ReferralAdvice.LABOUR_ARBITRATION: lazy_gettext("Apply for labour dispute arbitration"),
}

AGREEMENT_FORM_LABELS = {
    AgreementForm.WRITTEN: lazy_gettext("Written agreement"),
    AgreementForm.ORAL: lazy_gettext("Oral agreement"),
}

# (action, from status) -> to status. Escalation is handled apart: it keeps the status.
_MOVES: dict[tuple[CaseAction, CaseStatus], CaseStatus] = {
    (CaseAction.ACCEPT, CaseStatus.REGISTERED): CaseStatus.ACCEPTED,
    (CaseAction.DECLINE, CaseStatus.REGISTERED): CaseStatus.DECLINED,
    (CaseAction.START_MEDIATION, CaseStatus.ACCEPTED): CaseStatus.MEDIATING,
    (CaseAction.SETTLE, CaseStatus.MEDIATING): CaseStatus.SETTLED,
    (CaseAction.TERMINATE, CaseStatus.MEDIATING): CaseStatus.TERMINATED,
    # An accepted case whose party refuses mediation can never start (Art. 17); it ends
    # here, with advice on other channels, instead of waiting forever.
    (CaseAction.TERMINATE, CaseStatus.ACCEPTED): CaseStatus.TERMINATED,
    (CaseAction.START_PERFORMANCE, CaseStatus.SETTLED): CaseStatus.PERFORMING,
    (CaseAction.RECORD_PERFORMED, CaseStatus.PERFORMING): CaseStatus.PERFORMED,
    (CaseAction.RECORD_BREACH, CaseStatus.PERFORMING): CaseStatus.BREACHED,
    (CaseAction.REMEDIATE, CaseStatus.BREACHED): CaseStatus.MEDIATING,
    (CaseAction.TERMINATE, CaseStatus.BREACHED): CaseStatus.TERMINATED,
    (CaseAction.CLOSE, CaseStatus.PERFORMED): CaseStatus.CLOSED,
    (CaseAction.CLOSE, CaseStatus.TERMINATED): CaseStatus.CLOSED,
}

# Escalation moves live work to a stronger team. Declined and closed cases are finished;
# performed and terminated cases only wait for the follow-up visit, which the team that
# handled them makes, so there is nothing left for a higher level to do.
ESCALATABLE = frozenset(
    {
        CaseStatus.REGISTERED,
        CaseStatus.ACCEPTED,
        CaseStatus.MEDIATING,
        CaseStatus.SETTLED,
        CaseStatus.PERFORMING,
        CaseStatus.BREACHED,
    }
)

_FINAL = frozenset({CaseStatus.DECLINED, CaseStatus.CLOSED})

# Where an agreement (or a supplement to one) can still come out of the mediation: while it
# runs, and while an agreement reached is being performed. Not before mediation starts, not on
# a declined case, not after mediation was terminated (it failed: the parties were advised to
# go elsewhere, Art. 26), and not on a closed case.
AGREEMENT_STATUSES = frozenset(
    {
        CaseStatus.MEDIATING,
        CaseStatus.SETTLED,
        CaseStatus.PERFORMING,
        CaseStatus.PERFORMED,
        CaseStatus.BREACHED,
    }
)

KNOWN_FACTS = frozenset(
    {
        "decline_reason",
        "decline_text",
        "mediator_count",
        "any_party_refuses",
        "agreement_form",
        "termination_reason",
        "termination_text",
        "referral_advice",
        "follow_up_recorded",
    }
)


class WorkflowError(Exception):
    """A refused case move; ``message`` is translated, ``field`` names the fact at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class IllegalTransition(WorkflowError):
    pass


@dataclass(frozen=True)
class Transition:
    """A legal move, ready to be applied and written down as a ``CaseEvent``."""

    action: CaseAction
    from_status: CaseStatus
    to_status: CaseStatus
    level_before: CaseLevel
    level_after: CaseLevel
    # The normalised facts the move rests on (reasons, advice, agreement form).
    details: dict[str, str] = field(default_factory=dict, hash=False)


def is_open(status: CaseStatus | str) -> bool:
    """Open means work or a follow-up may still happen: everything but declined and closed."""
    return CaseStatus(status) not in _FINAL


def agreement_refused(status: CaseStatus | str, mediation_started: bool = True) -> str | None:
    """Why no agreement can be drafted or issued on a case in this status, or None if one can.
    ``mediation_started`` says whether the case has a mediation start date."""
    status = CaseStatus(status)
    if status in (CaseStatus.REGISTERED, CaseStatus.ACCEPTED) or (
        status in AGREEMENT_STATUSES and not mediation_started
    ):
        return _("An agreement can be drafted once mediation has started.")
    if status not in AGREEMENT_STATUSES:
        return _(
            "No agreement can be drafted or issued for a case that is “%(status)s”.",
            status=STATUS_LABELS[status],
        )
    return None


def allowed_actions(status: CaseStatus | str, level: CaseLevel | str) -> list[CaseAction]:
    """The moves the status allows, in workflow order, for the UI to offer.

    Moves whose rules depend on facts (consent, follow-up) are listed; ``apply`` checks them.
    """
    status, level = CaseStatus(status), CaseLevel(level)
    actions = [action for action in CaseAction if (action, status) in _MOVES]
    if status in ESCALATABLE and level.next_level() is not None:
        actions.append(CaseAction.ESCALATE)
    return actions


def apply(
    action: CaseAction | str, status: CaseStatus | str, level: CaseLevel | str, **facts: Any
) -> Transition:
    """Check one move against the workflow and the law; raise ``IllegalTransition`` if refused.

    Facts by action: decline needs ``decline_reason`` (and ``decline_text`` for "other");
    start_mediation and remediate need ``mediator_count`` >= 1 and no ``any_party_refuses``;
    settle needs ``agreement_form``; terminate needs ``termination_reason`` (and
    ``termination_text`` for "other") and ``referral_advice``; close needs
    ``follow_up_recorded``. An explanation given with any other reason is kept too.
    """
    unknown = set(facts) - KNOWN_FACTS
    if unknown:
        raise TypeError(f"unknown case facts: {', '.join(sorted(unknown))}")
    status, level = CaseStatus(status), CaseLevel(level)
    try:
        action = CaseAction(action)
    except ValueError:
        raise IllegalTransition(_("Unknown action: %(action)s.", action=action)) from None

    if action is CaseAction.ESCALATE:
        return _escalate(status, level)
    to_status = _MOVES.get((action, status))
    if to_status is None:
        raise IllegalTransition(
            _(
                "“%(action)s” is not possible for a case that is “%(status)s”.",
                status=STATUS_LABELS[status],
                action=ACTION_LABELS[action],
            )
        )
    details = _RULES.get(action, _no_facts)(facts)
    return Transition(action, status, to_status, level, level, details)


def _escalate(status: CaseStatus, level: CaseLevel) -> Transition:
    if status not in ESCALATABLE:
        raise IllegalTransition(
            _(
                "A case that is “%(status)s” cannot be escalated.",
                status=STATUS_LABELS[status],
            )
        )
    higher = level.next_level()
    if higher is None:
        raise IllegalTransition(
            _(
                "The case is already at the top level (%(level)s) and cannot be escalated further.",
                level=LEVEL_LABELS[level],
            )
        )
    return Transition(CaseAction.ESCALATE, status, status, level, higher)


def _no_facts(facts: dict[str, Any]) -> dict[str, str]:
    return {}


def _enum_fact(facts: dict[str, Any], name: str, enum: type[StrEnum], message: str) -> StrEnum:
    try:
        return enum(str(facts.get(name) or ""))
    except ValueError:
        raise IllegalTransition(message, field=name) from None


def _text_fact(facts: dict[str, Any], name: str) -> str:
    return str(facts.get(name) or "").strip()


def _decline_rules(facts: dict[str, Any]) -> dict[str, str]:
    reason = _enum_fact(
        facts, "decline_reason", DeclineReason, _("Choose why the case is not accepted.")
    )
    details = {"decline_reason": reason.value}
    # The explanation is required for "other" and kept whatever the reason: what the user
    # typed is never dropped.
    text = _text_fact(facts, "decline_text")
    if reason is DeclineReason.OTHER and not text:
        raise IllegalTransition(
            _("Describe the other reason for not accepting the case."), field="decline_text"
        )
    if text:
        details["decline_text"] = text
    return details


def _mediation_rules(facts: dict[str, Any]) -> dict[str, str]:
    if facts.get("any_party_refuses"):
        raise IllegalTransition(
            _(
                "A party has expressly refused mediation, so mediation cannot start "
                "(People's Mediation Law, Art. 17)."
            ),
            field="any_party_refuses",
        )
    if int(facts.get("mediator_count") or 0) < 1:
        raise IllegalTransition(
            _("Assign at least one mediator before mediation starts."), field="mediator_count"
        )
    return {}


def _settle_rules(facts: dict[str, Any]) -> dict[str, str]:
    form = _enum_fact(
        facts,
        "agreement_form",
        AgreementForm,
        _("Say whether the agreement is written or oral."),
    )
    return {"agreement_form": form.value}


def _terminate_rules(facts: dict[str, Any]) -> dict[str, str]:
    reason = _enum_fact(
        facts,
        "termination_reason",
        TerminationReason,
        _("Choose why mediation is terminated."),
    )
    details = {"termination_reason": reason.value}
    # The explanation is required for "other" and kept whatever the reason: what the user
    # typed is never dropped (the notice prints it beside the reason).
    text = _text_fact(facts, "termination_text")
    if reason is TerminationReason.OTHER and not text:
        raise IllegalTransition(
            _("Describe the other reason for terminating mediation."),
            field="termination_text",
        )
    if text:
        details["termination_text"] = text
    raw = facts.get("referral_advice")
    values = raw if isinstance(raw, (list, tuple)) else str(raw or "").split(",")
    message = _(
        "Record which channel the parties were advised to use: litigation, arbitration "
        "or an administrative body (People's Mediation Law, Art. 26)."
    )
    advice = []
    for value in values:
        if not str(value).strip():
            continue
        try:
            advice.append(ReferralAdvice(str(value).strip()).value)
        except ValueError:
            raise IllegalTransition(message, field="referral_advice") from None
    if not advice:
        raise IllegalTransition(message, field="referral_advice")
    details["referral_advice"] = ",".join(dict.fromkeys(advice))
    return details


def _close_rules(facts: dict[str, Any]) -> dict[str, str]:
    if facts.get("follow_up_recorded") is not True:
        raise IllegalTransition(
            _("Record the follow-up visit before closing the case."),
            field="follow_up_recorded",
        )
    return {}


_RULES = {
    CaseAction.DECLINE: _decline_rules,
    CaseAction.START_MEDIATION: _mediation_rules,
    CaseAction.REMEDIATE: _mediation_rules,
    CaseAction.SETTLE: _settle_rules,
    CaseAction.TERMINATE: _terminate_rules,
    CaseAction.CLOSE: _close_rules,
}
