"""A party's basic information (People's Mediation Law Art. 29(1)): what an ID number tells,
how a person or an organisation is described on a printed document."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from mediation.clock import local_today
from mediation.i18n import lazy_gettext as _l

GENDERS = {"male": _l("Male"), "female": _l("Female")}
# 统一社会信用代码 (GB 32100-2015): 18 characters from digits and upper-case letters
# without I, O, S, V, Z.
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_ID18 = re.compile(r"^[1-8][0-9]{16}[0-9X]$")


def looks_like_credit_code(value: str) -> bool:
    return bool(_CREDIT_CODE.match((value or "").strip().upper()))


def birth_date_from_id(id_number: str) -> date | None:
    """The date of birth an 18-character resident ID number carries (digits 7–14), or None."""
    number = (id_number or "").strip().upper()
    if not _ID18.match(number):
        return None
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def gender_from_id(id_number: str) -> str:
    """The 17th character is odd for men and even for women (GB 11643)."""
    number = (id_number or "").strip().upper()
    if not _ID18.match(number):
        return ""
    return "male" if int(number[16]) % 2 else "female"


@dataclass(frozen=True, slots=True)
class PrintedParty:
    """A party as a printed document describes it (empty strings for what does not apply)."""

    role: str  # in Chinese already ("申请人"): it is data on the document
    kind: str  # "person" or "organisation"
    name: str
    gender: str
    ethnicity: str
    birth_date: date | None
    id_number_display: str
    occupation: str
    credit_code: str
    legal_rep: str
    legal_rep_title: str
    address: str
    phone: str
    agent_name: str
    agent_relation: str


def print_party(row: dict, role_name: str, id_number: str) -> PrintedParty:
    """One party as printed documents describe it: a person by 姓名, gender, ethnicity, birth
    date, ID number, occupation, address and phone; an organisation by 名称, credit code,
    domicile, phone and its legal representative with post; either with an agent."""
    organisation = row.get("kind") == "organisation"
    return PrintedParty(
        role=role_name,
        kind="organisation" if organisation else "person",
        name=row["name"],
        gender="" if organisation else str(GENDERS.get(row.get("gender") or "", "")),
        ethnicity="" if organisation else (row.get("ethnicity") or ""),
        birth_date=None if organisation else row.get("birth_date"),
        id_number_display="" if organisation else id_number,
        occupation="" if organisation else (row.get("occupation") or ""),
        credit_code=(row.get("credit_code") or "") if organisation else "",
        legal_rep=(row.get("legal_rep") or "") if organisation else "",
        legal_rep_title=(row.get("legal_rep_title") or "") if organisation else "",
        address=row.get("address") or "",
        phone=row.get("phone") or "",
        agent_name=row.get("agent_name") or "",
        agent_relation=row.get("agent_relation") or "",
    )


# The basic-information fields a mediator completes on a party, in form order.
PERSON_FIELDS = ("gender", "ethnicity", "birth_date", "occupation")
ORGANISATION_FIELDS = ("credit_code", "legal_rep", "legal_rep_title")
AGENT_FIELDS = ("agent_name", "agent_relation")
EDITABLE_FIELDS = ("name", "address", *PERSON_FIELDS, *ORGANISATION_FIELDS, *AGENT_FIELDS)
_LENGTHS = {
    "name": 100,
    "address": 200,
    "ethnicity": 20,
    "occupation": 100,
    "credit_code": 18,
    "legal_rep": 50,
    "legal_rep_title": 50,
    "agent_name": 50,
    "agent_relation": 100,
}


def parse_basic_information(kind: str, data: dict) -> tuple[dict, dict[str, str]]:
    """Form values of a party's basic information → (clean values, errors by field)."""
    from mediation.i18n import gettext as _

    values: dict = {}
    errors: dict[str, str] = {}
    for field in EDITABLE_FIELDS:
        raw = str(data.get(field, "") or "").replace("\x00", "").strip()
        if field == "birth_date":
            if not raw:
                values[field] = None
                continue
            try:
                born = date.fromisoformat(raw)
                if not date(1900, 1, 1) <= born <= local_today():
                    raise ValueError
                values[field] = born
            except ValueError:
                errors[field] = _("Enter a date.")
            continue
        if field == "gender" and raw and raw not in GENDERS:
            errors[field] = _("Choose from the list.")
            continue
        if field in _LENGTHS and len(raw) > _LENGTHS[field]:
            errors[field] = _("This is too long (at most %(n)s characters).", n=_LENGTHS[field])
            continue
        values[field] = raw.upper() if field == "credit_code" else raw
    if not values.get("name") and "name" not in errors:
        errors["name"] = _("This field is required.")
    if kind == "organisation" and values.get("credit_code"):
        if not looks_like_credit_code(values["credit_code"]):
            errors["credit_code"] = _(
                "A unified social credit code has 18 digits and capital letters."
            )
    return values, errors
