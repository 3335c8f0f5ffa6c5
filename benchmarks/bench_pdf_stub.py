"""The app with the agreement's printing replaced by a 100 ms wait, for
``bench_pdf.py --server --stub-render``: what the app process's own work for each PDF request
(the request, the hand-over of the arguments, the response) costs the pages beside it, with no
printing at all. Not for anything but that benchmark."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

from mediation.asgi import app
from mediation.cases import agreement_controllers

STUB_PDF = b"%PDF-1.7\n" + b"0" * 50_000


async def _stub_print(_template_name: str, build: Any, *args: Any, after: Any = None) -> bytes:
    pickle.dumps((build, args, after))  # what handing the job to a printing process costs here
    await asyncio.sleep(0.1)
    return STUB_PDF


agreement_controllers.print_from_database = _stub_print  # type: ignore[assignment]

__all__ = ["app"]
