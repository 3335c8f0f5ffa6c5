"""A suggestion handed in (the public form, a kiosk, staff, Open311) and its photos."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from mediation.accounts.services import CurrentUser
from mediation.cases.services import today
from mediation.clock import utc_now
from mediation.db import PreparedSelect
from mediation.grid.tables import Region
from mediation.i18n import gettext as _
from mediation.settings import get_settings
from mediation.suggestions import photos, rules
from mediation.suggestions.categories import CATEGORY_CODES
from mediation.suggestions.common import POLICY, record_suggestion_event, signing_key
from mediation.suggestions.photos import Photo
from mediation.suggestions.tables import Suggestion, SuggestionPhoto
from mediation.suggestions.topics import open_topics

# How long after filing the same form sent again shows the secret again (a double tap, an
# answer lost on a bad connection); later it shows the receipt code only.
RESENT_FORM_SECRET_WINDOW = timedelta(minutes=10)


async def filed_with_form_key(form_key: str) -> tuple[str, str] | None:
    """The receipt of the suggestion a web form with this key filed, or None if it filed none:
    (tracking code, secret), the secret "" unless shortly after filing."""
    row = (
        await Suggestion.select(
            Suggestion.tracking_code, Suggestion.secret_digest, Suggestion.created_at
        )
        .where(Suggestion.idempotency_key == rules.form_key_digest(form_key))
        .first()
    )
    if row is None:
        return None
    code = row["tracking_code"]
    secret = rules.secret_for_form_key(form_key, signing_key())
    fresh = row["created_at"] >= utc_now() - RESENT_FORM_SECRET_WINDOW
    # A secret that no longer opens it (the server's key changed since) is not shown.
    if not fresh or not rules.verify_secret(secret, row["secret_digest"], signing_key(), code=code):
        return code, ""
    return code, secret


async def submit_suggestion(
    values: dict[str, Any],
    channel: str,
    point_id: int | None = None,
    actor: CurrentUser | None = None,
    photo_files: list[Photo] | None = None,
    extra_errors: dict[str, str] | None = None,
    reason_limit: int = rules.MAX_REASON,
    form_key: str | None = None,
) -> tuple[dict[str, Any], dict[str, str], tuple[str, str] | None]:
    """Validate and store; returns (clean values, errors, (tracking code, secret) or None).

    ``photo_files`` are already checked and re-encoded (``mediation.suggestions.photos``).
    An Open311 client also hands over ``email``, ``account_id``, ``address_id`` and
    ``media_url``, checked by ``open311.parse_service_request_in``: they are kept, never
    published. A web form's ``form_key`` (``rules.parse_form_key``) files once: the same form
    sent again answers with the receipt of what it filed (``filed_with_form_key``).
    """
    if form_key and (filed := await filed_with_form_key(form_key)):
        return {}, {}, filed
    cleaned, errors = rules.clean_submission(values, reason_limit=reason_limit)
    region_id = None
    if str(values.get("region") or "").isdigit():
        region_id = int(values["region"])
        if not await Region.exists().where(Region.id == region_id):
            errors["region"] = _("Choose from the list.")
    call_id = None
    if str(values.get("call") or "").isdigit():
        call_id = int(values["call"])
        if call_id not in {t.id for t in await open_topics()}:
            errors["call"] = _("This collection is closed.")
    cleaned["region"] = values.get("region") or ""
    cleaned["call"] = values.get("call") or ""
    cleaned["category"] = str(values.get("category") or "")[:32]
    if cleaned["category"] and cleaned["category"] not in CATEGORY_CODES:
        errors["category"] = _("Choose from the list.")
    errors.update(extra_errors or {})
    if errors:
        return cleaned, errors, None
    region_path = ""
    if region_id:
        region = await Region.select(Region.path).where(Region.id == region_id).first()
        region_path = region["path"] if region else ""
    received = today()
    clocks = rules.suggestion_clocks(received, POLICY)
    secret = rules.secret_for_form_key(form_key, signing_key()) if form_key else rules.new_secret()
    for _attempt in range(5):
        code = rules.new_tracking_code(received.year)
        if not await Suggestion.exists().where(Suggestion.tracking_code == code):
            break
    suggestion = Suggestion(
        tracking_code=code,
        secret_digest=rules.hash_secret(secret, signing_key(), code=code),
        channel=channel,
        point=point_id,
        call=call_id,
        title=cleaned["topic"],
        reason=cleaned["reason"],
        measures=cleaned["measures"],
        proposer_name=cleaned["name"],
        proposer_phone=cleaned["phone"],
        reply_by_phone=cleaned["reply_by_phone"],
        confidential=cleaned["confidential"],
        consent_to_publish=cleaned["consent_to_publish"],
        category=cleaned["category"],
        region=region_id,
        region_path=region_path,
        address=cleaned["address"],
        lat=cleaned["lat"],
        long=cleaned["long"],
        address_id=str(values.get("address_id") or "")[:64],
        proposer_email=str(values.get("email") or "")[:254],
        account_id=str(values.get("account_id") or "")[:100],
        media_url=str(values.get("media_url") or "")[:2000],
        status="received",
        received_on=received,
        route_due=clocks.route_due,
        conclude_due=clocks.conclude_due,
        idempotency_key=rules.form_key_digest(form_key) if form_key else None,
    )
    try:
        await suggestion.save()
    except Exception as exc:
        # The same form sent twice at the same moment: the second finds what the first filed.
        if form_key and "unique" in str(exc).lower():
            if filed := await filed_with_form_key(form_key):
                return {}, {}, filed
        raise
    data_dir = get_settings().data_dir
    for photo in photo_files or []:
        await SuggestionPhoto(
            suggestion=suggestion.id,
            content_type="image/jpeg",
            size=len(photo.content),
            width=photo.width,
            height=photo.height,
            sha256=photo.sha256,
            stored_as=await photos.store(data_dir, photo),
        ).save()
    await record_suggestion_event(suggestion.id, actor, "received", "", "received")
    return cleaned, {}, (code, secret)


_PHOTOS_OF = PreparedSelect(
    lambda suggestion_id: (
        SuggestionPhoto.select(SuggestionPhoto.id, SuggestionPhoto.width, SuggestionPhoto.height)
        .where(SuggestionPhoto.suggestion == suggestion_id)
        .order_by(SuggestionPhoto.id)
    )
)


@dataclass(frozen=True, slots=True)
class PhotoRow:
    """A photo handed in with a suggestion, as its page shows it."""

    id: int
    width: int
    height: int


async def photos_of(suggestion_id: int) -> list[PhotoRow]:
    return [PhotoRow(**r) for r in await _PHOTOS_OF(suggestion_id)]
