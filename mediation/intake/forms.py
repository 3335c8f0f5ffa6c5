"""The dispute intake form: parse what was typed, validate it, keep it for re-display."""

from __future__ import annotations

from typing import Any

from mediation.cases import categories as dispute_categories
from mediation.cases.services import (
    COLOURS,
    PARTY_KINDS,
    PARTY_ROLES,
    SOURCES,
    CaseInput,
    PartyInput,
)
from mediation.i18n import gettext as _
from mediation.inputs import db_id, parse_amount, too_long
from mediation.validators import (
    ValidationError,
    validate_credit_code,
    validate_id_number,
    validate_phone,
)

MAX_PARTIES = 20
PARTY_FIELDS = ("role", "kind", "name", "id_number", "phone", "address", "representative")


def _one(data: dict, key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip()


def party_indexes(data: dict) -> list[int]:
    """Rows present in the form (their numbers need not be contiguous after removals)."""
    found = set()
    for key in data:
        if key.startswith("parties-") and key.count("-") >= 2:
            try:
                found.add(int(key.split("-")[1]))
            except ValueError:
                continue
    return sorted(found)[:MAX_PARTIES]


def parse_intake(
    data: dict[str, Any], categories: dispute_categories.CategoryList | None = None
) -> tuple[dict, CaseInput | None, dict[str, str]]:
    """(values as typed, the validated input or None, errors keyed by field name).

    ``categories`` defaults to the process's list; a retired category is refused."""
    intake_codes = (categories or dispute_categories.current()).intake_codes
    values: dict[str, Any] = {
        k: _one(data, k)
        for k in (
            "category",
            "summary",
            "facts",
            "grid",
            "source",
            "colour",
            "amount",
            "location",
            "linked_case",
            "idempotency_key",
        )
    }
    values["public_security_risk"] = bool(_one(data, "public_security_risk"))
    values["parties_consent"] = _one(data, "parties_consent") or "yes"
    errors: dict[str, str] = {}
    required = _("This field is required.")
    for key in ("category", "summary", "grid", "source", "colour"):
        if not values[key]:
            errors[key] = required
    if values["category"] and values["category"] not in intake_codes:
        errors["category"] = _("Choose from the list.")
    if values["source"] and values["source"] not in SOURCES:
        errors["source"] = _("Choose from the list.")
    if values["colour"] and values["colour"] not in COLOURS:
        errors["colour"] = _("Choose from the list.")
    if len(values["summary"]) > 200:
        errors["summary"] = _("This is too long (at most %(n)s characters).", n=200)
    if len(values["facts"]) > 5000:
        errors["facts"] = _("This is too long (at most %(n)s characters).", n=5000)
    if message := too_long(values["location"], 200):
        errors["location"] = message
    grid_id = None
    if values["grid"]:
        grid_id = db_id(values["grid"])
        if grid_id is None:
            errors["grid"] = _("Choose from the list.")
    amount = None
    if values["amount"]:
        try:
            amount = parse_amount(values["amount"])
        except ValidationError as exc:
            errors["amount"] = exc.message
    linked = None
    if values["linked_case"]:
        linked = db_id(values["linked_case"])
    parties: list[PartyInput] = []
    rows = []
    for index in party_indexes(data):
        row: dict[str, Any] = {f: _one(data, f"parties-{index}-{f}") for f in PARTY_FIELDS}
        row["index"] = index
        row["refuses_mediation"] = bool(_one(data, f"parties-{index}-refuses_mediation"))
        rows.append(row)
        if not any(row[f] for f in ("name", "id_number", "phone", "address")):
            continue  # an empty row the worker added and left
        prefix = f"parties-{index}-"
        if row["role"] not in PARTY_ROLES:
            errors[prefix + "role"] = _("Choose from the list.")
        if row["kind"] not in PARTY_KINDS:
            row["kind"] = "person"
        if not row["name"]:
            errors[prefix + "name"] = required
        elif len(row["name"]) > 100:
            errors[prefix + "name"] = _("This is too long (at most %(n)s characters).", n=100)
        # The representative becomes Party.legal_rep or Party.agent_name, 50 characters.
        for field, limit in (("address", 200), ("representative", 50)):
            if message := too_long(row[field], limit):
                errors[prefix + field] = message
        id_number = ""
        if row["id_number"]:
            if row["kind"] == "organisation":
                try:
                    id_number = validate_credit_code(row["id_number"])
                except ValidationError as exc:
                    errors[prefix + "id_number"] = exc.message
            else:
                try:
                    id_number = validate_id_number(row["id_number"])
                except ValidationError as exc:
                    errors[prefix + "id_number"] = exc.message
        phone = ""
        if row["phone"]:
            try:
                phone = validate_phone(row["phone"])
            except ValidationError as exc:
                errors[prefix + "phone"] = exc.message
        parties.append(
            PartyInput(
                role=row["role"],
                kind=row["kind"],
                name=row["name"],
                id_number=id_number,
                phone=phone,
                address=row["address"],
                representative=row["representative"],
                refuses_mediation=row["refuses_mediation"] or values["parties_consent"] == "no",
            )
        )
    values["parties"] = rows or [blank_party(0, "applicant"), blank_party(1, "respondent")]
    if not any(p.role == "applicant" for p in parties):
        errors["parties"] = _("Add at least one applicant with a name.")
    if errors or grid_id is None:  # no grid is an error above
        return values, None, errors
    return (
        values,
        CaseInput(
            category=values["category"],
            summary=values["summary"],
            facts=values["facts"],
            grid_id=grid_id,
            source=values["source"],
            colour=values["colour"],
            public_security_risk=values["public_security_risk"],
            amount=amount,
            location=values["location"],
            parties=parties,
            linked_case_id=linked,
        ),
        {},
    )


def blank_party(index: int, role: str = "respondent") -> dict:
    return {
        "index": index,
        "role": role,
        "kind": "person",
        "name": "",
        "id_number": "",
        "phone": "",
        "address": "",
        "representative": "",
        "refuses_mediation": False,
    }
