"""Translated labels for the codes of the cases domain."""

from __future__ import annotations

import re
from functools import cache

from mediation.i18n import LazyText
from mediation.i18n import lazy_gettext as _l

SOURCE_LABELS = {
    "door_knocking": _l("Door-knocking visit"),
    "walk_in": _l("Walk-in visit"),
    "phone": _l("Phone call"),
    "police_referral": _l("Referred from a police call"),
    "hotline_12345": _l("12345 hotline"),
    "direct_report_point": _l("Direct-report point"),
    "suggestion": _l("Converted from a suggestion"),
    "referral": _l("Referred by another body"),
}

COLOUR_LABELS = {"red": _l("Red"), "yellow": _l("Yellow"), "green": _l("Green")}

COLOUR_GUIDANCE = {
    "red": _l(
        "Repeated or complex conflict at risk of turning criminal or into a group incident; "
        "led by the town, police and town centre are told at once."
    ),
    "yellow": _l("A named leader owns the case until it is resolved."),
    "green": _l("Routine dispute, handled by the grid team."),
}

PARTY_ROLE_LABELS = {
    "applicant": _l("Applicant"),
    "respondent": _l("Respondent"),
    "third_party": _l("Third party"),
}

PARTY_KIND_LABELS = {"person": _l("Individual"), "organisation": _l("Organisation or company")}

EVENT_LABELS = {
    "registered": _l("Registered"),
    "linked": _l("Linked to a possible duplicate"),
    "police_notified": _l("Police and town centre notified"),
    "colour_changed": _l("Risk colour changed"),
    "revealed": _l("Personal data viewed in full"),
    "mediator_assigned": _l("Mediator assigned"),
    "mediator_objected": _l("A party objected to a mediator"),
    "party_code_printed": _l("A party's code slip was printed"),
    "party_code_reissued": _l("A party's code was reissued"),
    "party_reschedule_request": _l("A party asked for another session date"),
    "party_confirmed_clause": _l("A party confirmed a clause was carried out"),
    "party_rated": _l("A party rated the mediation"),
    "extended": _l("Mediation period extended"),
    "overdue": _l("Overdue"),
    "caught_up": _l("Back within its deadlines"),
    "from_suggestion": _l("Converted from a suggestion"),
    "session_scheduled": _l("Session scheduled"),
    "session_closed": _l("Session closed"),
    "session_start_corrected": _l("Session start changed to when it actually started"),
    "agreement_drafted": _l("Agreement drafted"),
    "agreement_issued": _l("Agreement issued"),
    "agreement_signed": _l("Agreement signed"),
    "agreement_effective": _l("Agreement in effect"),
    "clause_performed": _l("Clause performed"),
    "clause_overdue": _l("Clause overdue"),
    "confirmation_reminder": _l("Reminder: judicial confirmation window closing"),
    "follow_up": _l("Follow-up visit recorded"),
    "figures_recorded": _l("Statistics figures recorded"),
    "material_added": _l("Material added"),
    "material_viewed": _l("Material opened"),
    "material_downloaded": _l("Material downloaded"),
    "materials_previewed": _l("Material previews seen"),
    "material_withdrawn": _l("Material withdrawn"),
    "materials_printed": _l("Materials printed in the case file"),
    "party_updated": _l("Party's basic information completed"),
    "session_cancelled": _l("Session cancelled"),
    "session_rescheduled": _l("Session rescheduled"),
    "session_double_booked": _l("Session scheduled despite a double booking"),
    "termination_notice_numbered": _l("Termination notice numbered"),
}

FIELD_LABELS = {
    "number": _l("Case number"),
    "colour": _l("Risk colour"),
    "grid": _l("Grid"),
    "level": _l("Level"),
    "linked_case": _l("Possible duplicate of"),
    "mediator": _l("Mediator"),
    "sessions_presided": _l("Now presides the sessions of"),
    "extension_days": _l("Extension (days)"),
    "field": _l("Field"),
    "party": _l("Party"),
    "decline_reason": _l("Reason"),
    "decline_text": _l("Explanation"),
    "termination_reason": _l("Reason"),
    "termination_text": _l("Explanation"),
    "referral_advice": _l("Advice given on other channels"),
    "agreement_form": _l("Form of the agreement"),
    "suggestion": _l("Suggestion"),
    "session": _l("Session time"),
    "room": _l("Room"),
    "outcome": _l("Outcome"),
    "kind": _l("Form of the agreement"),
    "signatory": _l("Signed by"),
    "effective_on": _l("In effect from"),
    "clause": _l("Clause"),
    "performance": _l("Performance"),
    "due": _l("Due"),
    "until": _l("Until"),
    "prevented_suicide": _l("Suicide prevented"),
    "prevented_criminal_persons": _l("Kept from turning criminal (persons)"),
    "prevented_petition_persons": _l("Group petition prevented (persons)"),
    "prevented_fight_persons": _l("Group fight prevented (persons)"),
    "found_by_screening": _l("Found by screening"),
    "prevented": _l("Prevented before it broke out"),
    "judicially_confirmed": _l("Agreement judicially confirmed"),
    "material": _l("Material"),
    "number_of_notice": _l("Notice number"),
    "starts_at": _l("Session time"),
    "reason": _l("Reason"),
    "other_case": _l("Overlaps with the session of case"),
    "other_session": _l("Time of the overlapping session"),
}

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")

REVEALED_FIELD_LABELS = {"id_number": _l("ID number"), "phone": _l("Phone")}
# Printed documents that carry personal data in full: printing one is recorded as a reveal.
PRINTED_DOCUMENT_LABELS = {"agreement": _l("Mediation agreement, printed")}
FIELD_LABELS["document"] = _l("Document")
FIELD_LABELS["agreement"] = _l("Agreement")


@cache
def _value_labels() -> dict[str, dict]:
    """For the timeline: which label table translates the recorded codes of a field."""
    from mediation.cases import agreements, followups, sessions, workflow

    return {
        "colour": COLOUR_LABELS,
        "status": workflow.STATUS_LABELS,
        "level": workflow.LEVEL_LABELS,
        "decline_reason": workflow.DECLINE_REASON_LABELS,
        "termination_reason": workflow.TERMINATION_REASON_LABELS,
        "referral_advice": workflow.REFERRAL_ADVICE_LABELS,
        "agreement_form": workflow.AGREEMENT_FORM_LABELS,
        "kind": agreements.KINDS,
        "outcome": sessions.OUTCOMES,
        "performance": followups.PERFORMANCE,
        "source": SOURCE_LABELS,
        "field": REVEALED_FIELD_LABELS,
        "document": PRINTED_DOCUMENT_LABELS,
    }


def change_value(field: str, value: object) -> object:
    """A recorded value as people read it: a code becomes its label, anything else stays."""
    if value is None:
        return "—"
    if isinstance(value, bool):  # a flag (judicially confirmed, at risk …) reads 是/否
        return _l("Yes") if value else _l("No")
    table = _value_labels().get(field)
    if table is not None and isinstance(value, str) and value in table:
        return table[value]
    if field == "signatory" and value in ("seal", "mediator", "party"):
        from mediation.cases.agreements import SIGNATORY_ROLES

        return SIGNATORY_ROLES[value]
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        from datetime import datetime

        from mediation.clock import to_local
        from mediation.i18n import format_date

        try:
            moment = to_local(datetime.fromisoformat(value))
        except ValueError:
            return value
        return f"{format_date(moment.date(), 'long')} {moment:%H:%M}"
    if isinstance(value, str) and _ISO_DATE.match(value):
        # Dates were recorded in ISO form; people read them in their own language.
        from datetime import date

        from mediation.i18n import format_date

        return format_date(date.fromisoformat(value[:10]), "long")
    if isinstance(value, str) and "," in value and field == "referral_advice":
        return "、".join(str(change_value(field, v)) for v in value.split(","))
    return value


def printed_event_note(changes: dict | None, note: str | None) -> str:
    """An event's note in the 卷宗's timeline, unless it only repeats the label of a value the
    event records (a closed session's note is its outcome, stored in the recorder's language):
    printed once, as the value, never as "调解结果：达成协议（达成协议）"."""
    if not note:
        return ""
    for field, change in (changes or {}).items():
        value = change_value(field, change[1])
        said = {str(value)}
        if isinstance(value, LazyText):
            said.add(value.message)  # the English label
        if note in said:
            return ""
    # A note the app wrote reads in the document's language whatever the recorder's was.
    return event_note(note)


def template_globals() -> dict[str, object]:
    """What the cases domain gives every template: its labels, the workflow, category names."""
    from mediation.cases import labels, workflow
    from mediation.cases.categories import category_label

    return {"CASE": labels, "WORKFLOW": workflow, "category_label": category_label}


# Notes the app itself writes on a case's timeline, as message ids (English). A note is stored
# in the language of whoever caused it (a sweep writes in the default locale); the timeline
# shows these in the reader's language. Parameters (numbers, names) are kept as written, or
# translated when they are labels themselves. A note a person typed matches none of them and
# is shown as typed.
APP_NOTES = (
    "Printed with full ID numbers and phone numbers",
    "Found performed at the follow-up visit.",
    "Both sides consented.",
    "Agreement %(number)s took effect.",
    "Notified: %(names)s",
    "Scheduled anyway, overlapping: %(others)s",
    "Escalated automatically: %(clock)s is overdue.",
)

# Lists of labels in a note: the separators a writer used, and (Chinese, other) to show.
_LIST_SEPARATORS = {"、": ("、", ", "), ", ": ("、", ", ")}
_PARAMETER = re.compile(r"%\((\w+)\)s")


@cache
def _note_labels() -> dict[str, object]:
    """The labels the app writes as notes, or in lists or parameters of notes (a session's
    outcome, a party's fields, the deadline clocks), by their text in every locale."""
    from mediation.cases import agreements, deadlines, sessions
    from mediation.i18n import SUPPORTED_LOCALES, translations_for

    index: dict[str, object] = {}
    for table in (sessions.OUTCOMES, agreements.PARTY_FIELD_LABELS, deadlines.CLOCK_LABELS):
        for label in table.values():
            for locale in SUPPORTED_LOCALES:
                index.setdefault(translations_for(locale).gettext(label.message), label)
    return index


@cache
def _note_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each app-written note, as written in every locale, as a pattern capturing its
    parameters."""
    from mediation.i18n import SUPPORTED_LOCALES, translations_for

    patterns = []
    for msgid in APP_NOTES:
        for locale in SUPPORTED_LOCALES:
            parts = _PARAMETER.split(translations_for(locale).gettext(msgid))
            regex = "".join(
                f"(?P<{part}>.+)" if i % 2 else re.escape(part) for i, part in enumerate(parts)
            )
            patterns.append((re.compile(regex, re.S), msgid))
    return tuple(patterns)


def _known_text(text: str) -> str | None:
    """``text`` in the reader's language if the app wrote it (a label, a list of labels, or
    one of ``APP_NOTES``), else None."""
    from mediation.i18n import get_locale, gettext

    label = _note_labels().get(text)
    if label is not None:
        return str(label)
    for separator, (chinese, other) in _LIST_SEPARATORS.items():
        items = text.split(separator)
        if len(items) > 1 and all(item in _note_labels() for item in items):
            joiner = chinese if get_locale() == "zh_CN" else other
            return joiner.join(str(_note_labels()[item]) for item in items)
    for pattern, msgid in _note_patterns():
        match = pattern.fullmatch(text)
        if match:
            params = {k: _known_text(v) or v for k, v in match.groupdict().items()}
            return gettext(msgid, **params)
    return None


def event_note(note: str) -> str:
    """A timeline note as the reader reads it: one the app wrote, in the reader's language;
    one a person typed, as typed."""
    if not note:
        return note
    return _known_text(note) or note
