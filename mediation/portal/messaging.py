"""Texts to parties through one interface: the log by default, an SMS gateway by configuration.

``MESSAGE_BACKEND`` names the backend: ``log`` (default) writes each text to the application
log; ``package.module:ClassName`` loads a class with an async ``send(phone, text)`` method and a
``name``, built with no arguments (it reads its own settings, e.g. the gateway's URL and key,
from the environment). No code in the app changes to plug a gateway in.
"""

from __future__ import annotations

import importlib
import logging
import os
from functools import cache
from typing import Protocol

from mediation.masking import mask_phone

log = logging.getLogger("mediation.messages")


class MessageBackend(Protocol):
    name: str

    async def send(self, phone: str, text: str) -> None: ...


class LogBackend:
    """Writes the text to the log (phone masked); staff see every text on the case's page."""

    name = "log"

    async def send(self, phone: str, text: str) -> None:
        log.info("text to %s: %s", mask_phone(phone), text)


@cache
def _load(spec: str) -> MessageBackend:
    if spec in ("", "log"):
        return LogBackend()
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise ValueError(
            f"MESSAGE_BACKEND must be 'log' or 'package.module:ClassName', not {spec!r}"
        )
    backend_class = getattr(importlib.import_module(module_name), class_name)
    return backend_class()


def backend() -> MessageBackend:
    """The configured backend (read from the environment, loaded once)."""
    return _load(os.environ.get("MESSAGE_BACKEND", "log").strip())
