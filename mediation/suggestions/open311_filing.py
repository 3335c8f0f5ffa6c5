"""Filing a suggestion through Open311 (POST requests): the spec's form to our suggestion
form, the optional ``media`` photo, the receipt and what the policy promises next."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
from litestar.datastructures import UploadFile

from mediation import i18n
from mediation.grid.tables import Region
from mediation.suggestions import open311, photos, rules, services
from mediation.suggestions.categories import CATEGORY_CODES
from mediation.suggestions.open311_documents import Created, form_values
from mediation.suggestions.open311_errors import Open311Problem, check_jurisdiction, problem
from mediation.suggestions.open311_keys import check_api_key
from mediation.suggestions.open311_reading import NO_MEASURES, notice
from mediation.suggestions.tables import Suggestion

# The text fields and one photo (multipart).
MAX_POST_BODY = photos.MAX_PHOTOS * photos.MAX_PHOTO_BYTES + 256 * 1024

# Our field names → the Open311 argument a client sent them in.
_PARAMS = {
    "topic": "attribute[topic]",
    "reason": "description",
    "measures": "attribute[measures]",
    "name": "first_name/last_name",
    "phone": "phone",
    "confidential": "attribute[confidential]",
    "consent_to_publish": "attribute[consent_to_publish]",
    "region": "address_id",
    "call": "attribute[call]",
    "address": "address_string",
    "photos": "media",
}


async def _media(form: Any) -> list[photos.Photo]:
    """A photo sent as the multipart field ``media``: checked and re-encoded without metadata."""
    uploads = [
        value
        for key, value in form.multi_items()
        if key == "media" and isinstance(value, UploadFile) and value.filename
    ]
    if not uploads:
        return []
    try:
        contents = [(f.filename, await f.read()) for f in uploads[: photos.MAX_PHOTOS]]
        return await anyio.to_thread.run_sync(photos.prepare_all, contents)
    except photos.PhotoError as exc:
        raise problem(400, f"media: {exc.message}") from exc


async def _submission(values: dict[str, Any], call: str) -> dict[str, Any]:
    """The suggestion form's values from the Open311 ones."""
    region = ""
    if values["address_id"]:
        row = await Region.select(Region.id).where(Region.code == values["address_id"]).first()
        region = str(row["id"]) if row else ""
    return {
        "topic": values["topic"],
        "reason": values["reason"],
        "measures": values["measures"] or NO_MEASURES,
        "name": values["name"],
        "phone": values["phone"],
        "email": values["email"],
        "account_id": values["account_id"] or "",
        "reply_by_phone": "",
        "confidential": "1" if values["confidential"] else "",
        "consent_to_publish": "1" if values["consent_to_publish"] else "",
        "category": values["service_code"],
        "region": region,
        "call": call.strip(),
        "address": values["address"],
        "address_id": values["address_id"],
        "lat": "" if values["lat"] is None else repr(values["lat"]),
        "long": "" if values["long"] is None else repr(values["long"]),
        "media_url": values["media_url"],
    }


async def file_request(posted: Any, query_api_key: str | None) -> list[Created]:
    """File the posted form (urlencoded or multipart) as a suggestion; the spec's answer
    (a list of one created request). Refusals raise ``Open311Problem``."""
    form = form_values(posted)
    if not form.get("api_key"):
        form["api_key"] = query_api_key or ""
    values, errors = open311.parse_service_request_in(form)
    if any(e["code"] == 403 for e in errors):
        raise Open311Problem(403, [e for e in errors if e["code"] == 403])
    key = await check_api_key(values["api_key"])
    if key is None:
        raise problem(403, i18n.gettext("api_key is not valid."))
    await check_jurisdiction(values["jurisdiction_id"])
    if errors:
        raise Open311Problem(400, errors)
    if values["service_code"] not in CATEGORY_CODES:
        raise problem(
            404,
            i18n.gettext("service_code not found: %(code)s.", code=values["service_code"]),
        )
    photo_files = await _media(posted)
    submission = await _submission(values, str(form.get("attribute[call]") or ""))
    _cleaned, refused, receipt = await services.submit_suggestion(
        submission,
        rules.Channel.OPEN311.value,
        photo_files=photo_files,
        reason_limit=rules.MAX_DESCRIPTION,
    )
    if refused or receipt is None:
        raise Open311Problem(
            400,
            [
                open311.error_response(400, f"{_PARAMS.get(field, field)}: {message}")[0]
                for field, message in refused.items()
            ],
        )
    code, _secret = receipt  # never sent: the client follows the request by its code
    row = (
        await Suggestion.select(Suggestion.id, Suggestion.route_due, Suggestion.conclude_due)
        .where(Suggestion.tracking_code == code)
        .first()
    )
    assert row is not None  # submitted just above
    from mediation.grid.services import record_audit

    await record_audit(None, "open311_submit", "suggestion", row["id"], detail=key.name)
    text = i18n.gettext(
        "Received. Follow it with service_request_id %(code)s. %(next)s",
        code=code,
        next=notice(rules.SuggestionStatus.RECEIVED, row["route_due"], row["conclude_due"]),
    )
    return msgspec.convert(
        open311.created_response(code, text, values["account_id"]), list[Created]
    )
