"""Open311 GeoReport v2 for suggestions: discovery, services, requests in and out, errors.

Pure mapping between our suggestion records (plain dicts) and the JSON of the spec
(https://wiki.open311.org/GeoReport_v2, https://wiki.open311.org/Service_Discovery). The
controller reads the request, checks the API key and the database, and calls these.

What goes out is public: GET requests needs no API key. So a request never carries the
proposer's name, phone, email, account or device; the free text is scrubbed of the
proposer's own details and of anything shaped like a phone number, ID number or email; the
content (description, photo, address text) appears only when the proposer consented to
publication; and a confidential suggestion shows only workflow facts, not even its place.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from mediation.clock import county_zone, local_now
from mediation.i18n import gettext as _
from mediation.inputs import EARLIEST_YEAR, LATEST_YEAR
from mediation.suggestions.rules import (
    MAX_DESCRIPTION,
    MAX_MEASURES,
    MAX_NAME,
    MAX_TOPIC,
    STATUS_LABELS,
    Channel,
    SuggestionStatus,
    normalize_phone,
    parse_flag,
    parse_tracking_code,
)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["text/xml", "application/json"]
MAX_WINDOW = timedelta(days=90)  # GET requests: "may not span more than 90 days"
MAX_RESULTS = 1000  # "first 1000 requests returned"
# GET requests without page_size answer the newest DEFAULT_PAGE_SIZE; page_size may ask for
# up to MAX_PAGE_SIZE (the spec's own cap).
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = MAX_RESULTS
MAX_ADDRESS = 250
MAX_URL = 2000

# Our statuses → the spec's two. A replied suggestion stays open: the proposer may still
# rate the reply and have it reopened. Re-routed ones left the suggestion channel (a
# dispute case, or advice on another channel), so for Open311 they are closed.
OPEN311_STATUS: Mapping[SuggestionStatus, str] = {
    SuggestionStatus.RECEIVED: "open",
    SuggestionStatus.REGISTERED: "open",
    SuggestionStatus.TRANSFERRED: "open",
    SuggestionStatus.HANDLING: "open",
    SuggestionStatus.REPLIED: "open",
    SuggestionStatus.REROUTED: "closed",
    SuggestionStatus.CONCLUDED: "closed",
    SuggestionStatus.CLOSED: "closed",
}
OPEN311_STATUSES = ("open", "closed")

# The fields of a service request, in the spec's order.
REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)


def statuses_for(open311_statuses: Iterable[str]) -> list[SuggestionStatus]:
    """Our statuses behind the spec's "open"/"closed", for filtering a query."""
    wanted = set(open311_statuses)
    return [status for status, mapped in OPEN311_STATUS.items() if mapped in wanted]


# --- discovery and services -------------------------------------------------------------------


def discovery(
    base_url: str,
    *,
    changeset: str = "2026-01-01 00:00",
    contact: str | None = None,
    key_service: str | None = None,
) -> dict[str, Any]:
    """The Service Discovery document; ``base_url`` is the GeoReport v2 endpoint's root.

    ``changeset`` is a sortable time stamp of the last change to the services list.
    """
    return {
        "changeset": changeset,
        "contact": contact
        or _("For help with this interface, contact the people's suggestion office."),
        "key_service": key_service
        or _("To file suggestions, ask the people's suggestion office for an API key."),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url.rstrip("/"),
                "changeset": changeset,
                "type": "production",
                "formats": list(FORMATS),
            }
        ],
    }


def service_list(categories: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """GET services: one service per suggestion category.

    A category has ``code`` and ``name``, and optionally ``description``, ``keywords`` (a
    list or a comma-separated string) and ``group``.
    """
    services = []
    for category in categories:
        keywords = category.get("keywords") or ""
        if not isinstance(keywords, str):
            keywords = ", ".join(str(keyword) for keyword in keywords)
        services.append(
            {
                "service_code": str(category["code"]),
                "service_name": str(category["name"]),
                "description": str(category.get("description") or ""),
                "metadata": False,
                "type": "realtime",
                "keywords": keywords,
                "group": str(category.get("group") or ""),
            }
        )
    return services


# --- a suggestion as a service request --------------------------------------------------------


def w3_datetime(value: date | datetime | None, *, end_of_day: bool = False) -> str | None:
    """A W3C/ISO 8601 date-time in China time with its offset, e.g. 2026-03-02T09:30:00+08:00.

    A naive datetime is taken to be China time already; a date becomes the start of that
    day, or its last second with ``end_of_day`` (a due date means "by the end of the day").
    """
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59, 59) if end_of_day else time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=county_zone())
    return value.astimezone(county_zone()).replace(microsecond=0).isoformat()


_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<!\d)\d{15}(?!\d)")
# The look-behind makes a match start only at the beginning of a run: linear, not quadratic.
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")
MASK = "***"


def scrub(text: str | None, proposer: Mapping[str, Any] | None = None) -> str:
    """Free text with personal data masked as ***.

    Masked: the proposer's own name, phone and email, and anything shaped like a mobile or
    landline number, a resident ID number or an email address.
    """
    if not text:
        return ""
    for key in ("name", "phone", "email"):
        value = str((proposer or {}).get(key) or "").strip()
        # A one-character "name" would blank out ordinary words.
        if len(value) >= 2:
            text = text.replace(value, MASK)
    text = text.translate(_FULL_WIDTH_DIGITS)
    for pattern in (_EMAIL, _ID_NUMBER, _MOBILE, _LANDLINE):
        text = pattern.sub(MASK, text)
    return text


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def service_request_out(s: Mapping[str, Any]) -> dict[str, Any]:
    """A suggestion as a GeoReport v2 service request (GET requests, GET requests/{id}).

    Keys read from the record: ``tracking_code``, ``status``, ``status_notes`` (a public
    note), ``category_code``, ``category_name``, ``topic``, ``reason``, ``measures``,
    ``department_name``, ``service_notice``, ``received_at``, ``updated_at``,
    ``conclude_due``, ``address``, ``address_id``, ``zipcode``, ``lat``, ``long``,
    ``media_url``, ``confidential``, ``consent_to_publish``; the proposer's ``name``,
    ``phone`` and ``email`` are read only to scrub them out of the text.
    """
    status = SuggestionStatus(s["status"])
    confidential = bool(s.get("confidential"))
    public = bool(s.get("consent_to_publish")) and not confidential

    notes = [str(STATUS_LABELS[status])]
    if s.get("status_notes"):
        notes.append(scrub(str(s["status_notes"]), s))
    description = None
    if public:
        parts = [scrub(str(s.get(key) or "").strip(), s) for key in ("topic", "reason", "measures")]
        description = "\n\n".join(part for part in parts if part)[:MAX_DESCRIPTION] or None

    shows_place = not confidential
    lat, long = _float(s.get("lat")), _float(s.get("long"))
    return {
        "service_request_id": s["tracking_code"],
        "status": OPEN311_STATUS[status],
        "status_notes": _("; ").join(notes),
        "service_name": _str(s.get("category_name")),
        "service_code": _str(s.get("category_code")),
        "description": description,
        "agency_responsible": _str(s.get("department_name")),
        "service_notice": _str(s.get("service_notice")),
        "requested_datetime": w3_datetime(s.get("received_at")),
        "updated_datetime": w3_datetime(s.get("updated_at") or s.get("received_at")),
        "expected_datetime": w3_datetime(s.get("conclude_due"), end_of_day=True),
        "address": _str(scrub(s.get("address"), s)) if public else None,
        "address_id": _str(s.get("address_id")) if shows_place else None,
        "zipcode": _str(s.get("zipcode")) if shows_place else None,
        "lat": lat if shows_place and lat is not None and long is not None else None,
        "long": long if shows_place and lat is not None and long is not None else None,
        "media_url": _str(s.get("media_url")) if public else None,
    }


# --- POST requests ----------------------------------------------------------------------------


def error_response(code: int, description: str) -> list[dict[str, Any]]:
    """The spec's error body: a list of {code, description}."""
    return [{"code": code, "description": description}]


def created_response(
    tracking_code: str, service_notice: str | None, account_id: str | None = None
) -> list[dict[str, Any]]:
    """The answer to POST requests: the new request's id (our receipt code)."""
    return [
        {
            "service_request_id": tracking_code,
            "service_notice": service_notice,
            "account_id": account_id,
        }
    ]


def _one(form: Mapping[str, Any], key: str) -> str:
    """A form value as stripped text; of a repeated field, the first value."""
    value = form.get(key)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return unicodedata.normalize("NFC", str(value)).strip() if value is not None else ""


def _error(code: int, description: str) -> dict[str, Any]:
    return {"code": code, "description": description}


def _missing(name: str) -> dict[str, Any]:
    return _error(400, _("%(field)s is required.", field=name))


def _too_long(name: str, limit: int, text: str) -> dict[str, Any]:
    return _error(
        400,
        _(
            "%(field)s may have at most %(max)s characters (it has %(count)s).",
            field=name,
            max=limit,
            count=len(text),
        ),
    )


def _is_ascii_name(text: str) -> bool:
    return all(ord(ch) < 128 for ch in text)


def proposer_name(first_name: str, last_name: str) -> str:
    """Chinese names put the family name first with no space; Latin names the other way."""
    first_name, last_name = first_name.strip(), last_name.strip()
    if _is_ascii_name(first_name + last_name):
        return " ".join(part for part in (first_name, last_name) if part)
    return f"{last_name}{first_name}"


def derive_topic(description: str, limit: int = 50) -> str:
    """A topic for a client that sends none: the first sentence, cut to ``limit``."""
    first = re.split(r"[。！？!?\n]", description.strip(), maxsplit=1)[0].strip()
    return first if len(first) <= limit else first[: limit - 1] + "…"


def parse_service_request_in(
    form: Mapping[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read and check the fields of POST requests; return (values, Open311 errors).

    The values use our names: ``api_key`` (for the caller to check), ``jurisdiction_id``,
    ``service_code``, ``topic``, ``reason`` (the description), ``measures``, ``name``,
    ``phone``, ``email``, ``account_id``, ``lat``, ``long``, ``address``, ``address_id``,
    ``media_url``, ``confidential``, ``consent_to_publish``, ``channel``.

    The spec requires a location; a suggestion need not have one, so location is optional,
    but a given lat/long must be a valid pair. ``device_id`` is personal data we do not
    need and is dropped.
    """
    errors: list[dict[str, Any]] = []
    values: dict[str, Any] = {"channel": Channel.OPEN311.value}

    api_key = _one(form, "api_key")
    if not api_key:
        errors.append(_error(403, _("api_key is required.")))
    values["api_key"] = api_key
    values["jurisdiction_id"] = _one(form, "jurisdiction_id")

    values["service_code"] = _one(form, "service_code")
    if not values["service_code"]:
        errors.append(_missing("service_code"))

    reason = _one(form, "description")
    values["reason"] = reason
    if not reason:
        errors.append(_missing("description"))
    elif len(reason) > MAX_DESCRIPTION:
        errors.append(_too_long("description", MAX_DESCRIPTION, reason))

    topic = _one(form, "attribute[topic]")
    if topic and len(topic) > MAX_TOPIC:
        errors.append(_too_long("attribute[topic]", MAX_TOPIC, topic))
    values["topic"] = topic or derive_topic(reason)
    measures = _one(form, "attribute[measures]")
    if len(measures) > MAX_MEASURES:
        errors.append(_too_long("attribute[measures]", MAX_MEASURES, measures))
    values["measures"] = measures

    for flag in ("confidential", "consent_to_publish"):
        parsed = parse_flag(_one(form, f"attribute[{flag}]"))
        if parsed is None:
            errors.append(_error(400, _("attribute[%(name)s] must be true or false.", name=flag)))
        values[flag] = bool(parsed)

    errors += _location(form, values)
    errors += _proposer(form, values)

    media_url = _one(form, "media_url")
    if media_url and not _is_web_url(media_url):
        errors.append(_error(400, _("media_url must be an http or https address.")))
    values["media_url"] = media_url
    return values, errors


def _location(form: Mapping[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    errors = []
    raw_lat, raw_long = _one(form, "lat"), _one(form, "long")
    values["lat"] = values["long"] = None
    if raw_lat or raw_long:
        lat, long = _float(raw_lat), _float(raw_long)
        if not (raw_lat and raw_long):
            errors.append(_error(400, _("lat and long must be sent together.")))
        elif lat is None or long is None:
            errors.append(_error(400, _("lat and long must be numbers (WGS84 degrees).")))
        elif not (-90 <= lat <= 90 and -180 <= long <= 180):
            errors.append(
                _error(
                    400,
                    _("lat must be between -90 and 90, and long between -180 and 180."),
                )
            )
        else:
            values["lat"], values["long"] = lat, long
    address = _one(form, "address_string")
    if len(address) > MAX_ADDRESS:
        errors.append(_too_long("address_string", MAX_ADDRESS, address))
    values["address"] = address
    address_id = _one(form, "address_id")
    if len(address_id) > 64:
        errors.append(_too_long("address_id", 64, address_id))
    values["address_id"] = address_id
    return errors


def _proposer(form: Mapping[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    errors = []
    name = proposer_name(_one(form, "first_name"), _one(form, "last_name"))
    if len(name) > MAX_NAME:
        errors.append(_too_long("first_name/last_name", MAX_NAME, name))
    values["name"] = name

    raw_phone = _one(form, "phone")
    phone = normalize_phone(raw_phone) if raw_phone else ""
    if phone is None:
        errors.append(_error(400, _("phone must have 7 to 15 digits.")))
    values["phone"] = phone or ""

    email = _one(form, "email")
    if email and (len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        errors.append(_error(400, _("email is not a valid address.")))
    values["email"] = email
    account_id = _one(form, "account_id")
    if len(account_id) > 100:
        errors.append(_too_long("account_id", 100, account_id))
    values["account_id"] = account_id or None
    return errors


def _is_web_url(text: str) -> bool:
    if len(text) > MAX_URL:
        return False
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# --- GET requests -----------------------------------------------------------------------------


def parse_w3_datetime(text: str) -> datetime | None:
    """A W3C date or date-time as an aware datetime, or None if it is not one.

    The spec wants a time zone; one that is missing is taken to be China time (+08:00).
    """
    text = text.strip()
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            value = datetime.combine(date.fromisoformat(text), time())
        elif re.fullmatch(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2})?", text
        ):
            value = datetime.fromisoformat(text)
        else:
            return None
    except ValueError:
        return None
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        return None  # and a search window around year 9999 would overflow datetime
    return value if value.tzinfo else value.replace(tzinfo=county_zone())


def _split(value: str) -> list[str]:
    items: list[str] = []
    for item in value.split(","):
        item = item.strip()
        if item and item not in items:
            items.append(item)
    return items


def parse_list_params(
    query: Mapping[str, Any], *, now: datetime | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read and check the arguments of GET requests; return (params, Open311 errors).

    params: ``service_request_ids`` (our receipt codes; when given they override every
    other argument, as the spec says), ``service_codes``, ``start`` and ``end`` (aware
    datetimes; by default the most recent 90 days, never more than 90 days), ``statuses``
    ("open"/"closed"), ``suggestion_statuses`` (ours, for the query) and ``limit`` (the
    ``page_size`` asked for, DEFAULT_PAGE_SIZE without one, at most MAX_PAGE_SIZE; a list of
    receipt codes is answered whole).
    """
    errors: list[dict[str, Any]] = []
    now = now or local_now()
    if now.tzinfo is None:
        now = now.replace(tzinfo=county_zone())
    params: dict[str, Any] = {"limit": MAX_RESULTS}

    ids = _split(_one(query, "service_request_id"))
    if ids:
        codes = [parse_tracking_code(item) for item in ids]
        bad = [item for item, code in zip(ids, codes, strict=True) if code is None]
        if bad:
            errors.append(
                _error(
                    400,
                    _("Not a valid service_request_id: %(ids)s.", ids=", ".join(bad)),
                )
            )
        params["service_request_ids"] = [code for code in codes if code]
        return params, errors

    params["service_request_ids"] = []
    params["service_codes"] = _split(_one(query, "service_code"))
    page_size = _one(query, "page_size")
    params["limit"] = DEFAULT_PAGE_SIZE
    if page_size:
        if page_size.isascii() and page_size.isdigit() and 1 <= int(page_size) <= MAX_PAGE_SIZE:
            params["limit"] = int(page_size)
        else:
            errors.append(
                _error(
                    400,
                    _(
                        "page_size must be a whole number from 1 to %(max)s.",
                        max=MAX_PAGE_SIZE,
                    ),
                )
            )

    statuses = [item.lower() for item in _split(_one(query, "status"))]
    unknown = [item for item in statuses if item not in OPEN311_STATUSES]
    if unknown:
        errors.append(
            _error(
                400,
                _(
                    "status may only be open or closed, not %(values)s.",
                    values=", ".join(unknown),
                ),
            )
        )
    params["statuses"] = [item for item in statuses if item in OPEN311_STATUSES]
    params["suggestion_statuses"] = statuses_for(params["statuses"] or OPEN311_STATUSES)

    start, end = None, None
    for name in ("start_date", "end_date"):
        raw = _one(query, name)
        if not raw:
            continue
        value = parse_w3_datetime(raw)
        if value is None:
            errors.append(
                _error(
                    400,
                    _(
                        "%(field)s must be a W3C date-time such as 2026-01-01T00:00:00+08:00.",
                        field=name,
                    ),
                )
            )
        elif name == "start_date":
            start = value
        else:
            end = value
    if end is None:
        end = now if start is None else min(start + MAX_WINDOW, max(start, now))
    if start is None:
        start = end - MAX_WINDOW
    if start > end:
        errors.append(_error(400, _("start_date must not be after end_date.")))
    elif end - start > MAX_WINDOW:
        errors.append(_error(400, _("start_date and end_date may not span more than 90 days.")))
    params["start"], params["end"] = start, end
    return params, errors
