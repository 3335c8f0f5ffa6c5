"""The app with the agreement's render replaced by a 100 ms wait, for
``bench_pdf.py --server --stub-render``: what the app's own work for each PDF request (the
print context, the reveal line, pickling, the response) costs the pages beside it, with no
printing at all. Not for anything but that benchmark."""

from __future__ import annotations

import asyncio
import pickle

from mediation.asgi import app
from mediation.cases import agreement_controllers

STUB_PDF = b"%PDF-1.7\n" + b"0" * 50_000


async def _stub_render(_template_name: str, context: dict) -> bytes:
    pickle.dumps(context)  # what handing the context to a printing process costs here
    await asyncio.sleep(0.1)
    return STUB_PDF


agreement_controllers.render_pdf_async = _stub_render  # type: ignore[assignment]

__all__ = ["app"]
