"""QR codes for printed documents, as data URIs WeasyPrint can embed without any fetch.

Two encodings of the same code, both without a quiet zone (the template's padding/margin
provides the white border scanners need, so the image box is exactly the code):

* ``qr_png_data_uri``: one pixel per module (~300 bytes). Drawn with
  ``image-rendering: pixelated`` the PDF marks it /Interpolate false, so viewers and printers
  scale it as sharp squares at any resolution. Cheapest for WeasyPrint to lay out and draw:
  what the print templates use.
* ``qr_svg_data_uri``: vector paths (~2 KB). Equally sharp, but WeasyPrint parses the path
  data in Python on every render (≈10 ms for a verification URL, ~7% of a one-page
  agreement), so it is kept for HTML pages and other uses.

Error correction M (15%) survives a fold or a smudge; segno raises it for free when the
symbol has room.
"""

from __future__ import annotations

from functools import lru_cache

import segno


def _code(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False, boost_error=True)


@lru_cache(maxsize=256)
def qr_png_data_uri(url: str) -> str:
    """``data:image/png;base64,...``: the QR code of ``url``, one pixel per module, no border."""
    return _code(url).png_data_uri(scale=1, border=0)


@lru_cache(maxsize=256)
def qr_svg_data_uri(url: str) -> str:
    """``data:image/svg+xml,...``: the QR code of ``url`` as an SVG with a viewBox, no border.

    No width/height attributes: the page sizes it in CSS.
    """
    return _code(url).svg_data_uri(border=0, omitsize=True, encode_minimal=True, nl=False)
