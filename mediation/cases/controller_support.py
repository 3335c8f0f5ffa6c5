"""What the case's session, agreement and document pages share."""

from __future__ import annotations

from litestar import Response
from litestar.enums import RequestEncodingType
from litestar.params import Body

from mediation.roles import CASE_ROLES

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
SESSION_ROLES = CASE_ROLES


def grouped(data: dict, prefix: str, fields: tuple[str, ...]) -> list[dict]:
    indexes = sorted(
        {
            int(k.split("-")[1])
            for k in data
            if k.startswith(prefix + "-") and k.split("-")[1].isdigit()
        }
    )
    return [
        {"index": i, **{f: str(data.get(f"{prefix}-{i}-{f}", "")) for f in fields}} for i in indexes
    ]


def pdf_response(pdf: bytes, filename: str) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
