"""Field specifications and validation for the administration forms (reference data)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mediation.i18n import gettext as _
from mediation.i18n import lazy_gettext as _l

Choices = Callable[[], Awaitable[list[tuple[str, str]]]]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: Any
    kind: str = "text"  # text, textarea, int, bool, choice, multi, password, list
    required: bool = False
    choices: Choices | None = None
    help: Any = ""
    max_length: int = 100
    on_create_only: bool = False


@dataclass
class FormResult:
    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if str(v) != ""]
    return [str(value)] if str(value) != "" else []


async def parse_form(specs: list[FieldSpec], data: dict[str, Any], creating: bool) -> FormResult:
    """Turn submitted strings into typed values; errors keyed by field, input kept as typed."""
    result = FormResult()
    for spec in specs:
        if spec.on_create_only and not creating:
            continue
        raw = data.get(spec.name)
        if spec.kind == "multi":
            items = _as_list(raw)
            result.raw[spec.name] = items
            allowed = {key for key, _label in await spec.choices()} if spec.choices else set()
            bad = [i for i in items if i not in allowed]
            if bad:
                result.errors[spec.name] = _("Choose from the list.")
            elif spec.required and not items:
                result.errors[spec.name] = _("Choose at least one.")
            result.values[spec.name] = items
            continue
        if spec.kind == "bool":
            result.raw[spec.name] = raw not in (None, "", "0", "false", "off")
            result.values[spec.name] = result.raw[spec.name]
            continue
        text = (raw[-1] if isinstance(raw, list) else (raw or "")).strip()
        result.raw[spec.name] = "" if spec.kind == "password" else text
        if not text:
            if spec.required:
                result.errors[spec.name] = _("This field is required.")
            result.values[spec.name] = (
                [] if spec.kind == "list" else (None if spec.kind in ("int", "choice") else "")
            )
            continue
        if len(text) > (spec.max_length if spec.kind != "textarea" else 2000):
            result.errors[spec.name] = _(
                "This is too long (at most %(n)s characters).", n=spec.max_length
            )
            continue
        if spec.kind == "int":
            try:
                number = int(text)
            except ValueError:
                result.errors[spec.name] = _("Enter a whole number.")
                continue
            if number < 0:
                result.errors[spec.name] = _("Enter a whole number.")
                continue
            result.values[spec.name] = number
        elif spec.kind == "choice":
            allowed = {key for key, _label in await spec.choices()} if spec.choices else set()
            if text not in allowed:
                result.errors[spec.name] = _("Choose from the list.")
                continue
            result.values[spec.name] = text
        elif spec.kind == "list":
            result.values[spec.name] = [
                p.strip() for p in text.replace("，", ",").split(",") if p.strip()
            ]
        elif spec.kind == "password":
            if len(text) < 10:
                result.errors[spec.name] = _("Use at least 10 characters.")
                continue
            result.values[spec.name] = text
        else:
            result.values[spec.name] = text
    return result


REQUIRED_MARK = _l("required")
