"""Open311 GeoReport v2 documents as XML or JSON, and the format a request asks for.

The spec makes XML the required format and JSON an option, and maps one onto the other by
the Spark convention (https://wiki.open311.org/JSON_and_XML_Conversion): a JSON list is an
element holding one child per item, named by the list (``service_requests`` → ``request``);
an object's keys are child elements in order; null is an empty element; true/false are text.
``to_xml`` writes that, ``from_xml`` reads it back (clients and tests use it).

The format is chosen by the file extension of the resource (``services.xml``,
``requests/JY-2026-7K3Q9M.json``), as the spec says.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from litestar import MediaType, Response

XML = "xml"
JSON = "json"
FORMATS = (XML, JSON)
# Litestar adds "; charset=utf-8" to a text/* type itself.
MEDIA_TYPES = {XML: "text/xml", JSON: "application/json"}
# What Service Discovery lists for the endpoint.
DISCOVERY_FORMATS = ["text/xml", "application/json"]

# Root element of each document, and the element of each item of a list (Spark convention).
ROOTS = {
    "discovery": "discovery",
    "services": "services",
    "service_definition": "service_definition",
    "service_requests": "service_requests",
    "errors": "errors",
}
ITEMS = {
    "endpoints": "endpoint",
    "formats": "format",
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
}


class UnknownFormat(ValueError):
    """A resource name ends in an extension other than .xml or .json."""


def split_format(name: str, default: str = JSON) -> tuple[str, str]:
    """``"services.xml"`` → ``("services", "xml")``; no extension gives ``default``.

    Only the last dot counts, and only when what follows it is a word (a receipt code has
    dashes, never dots); any other extension is refused.
    """
    stem, dot, extension = name.rpartition(".")
    if not dot:
        return name, default
    extension = extension.lower()
    if extension not in FORMATS:
        raise UnknownFormat(extension)
    return stem, extension


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _append(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    _fill(element, name, value)


def _fill(element: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list | tuple):
        item_name = ITEMS.get(name, "item")
        for item in value:
            _append(element, item_name, item)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """A document as the spec's XML: UTF-8, with the declaration, no namespace."""
    element = ET.Element(ROOTS.get(root, root))
    _fill(element, root, value)
    body = ET.tostring(element, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")


def from_xml(text: str | bytes, lists: tuple[str, ...] = tuple(ITEMS)) -> Any:
    """Read a GeoReport XML document back into JSON-like data (all leaves as strings).

    Elements named in ``lists`` are lists of their children; an element with children is an
    object; an empty element is None.
    """
    root = ET.fromstring(text)
    return _read(root, lists)


def _read(element: ET.Element, lists: tuple[str, ...]) -> Any:
    children = list(element)
    if element.tag in lists:
        return [_read(child, lists) for child in children]
    if children:
        return {child.tag: _read(child, lists) for child in children}
    text = (element.text or "").strip()
    return text or None


def document(
    fmt: str, root: str, value: Any, status_code: int = 200, headers: dict | None = None
) -> Response:
    """A response in the asked-for format; ``root`` names the XML root (and list items)."""
    if fmt == XML:
        return Response(
            to_xml(root, value),
            status_code=status_code,
            media_type=MEDIA_TYPES[XML],
            headers=headers,
        )
    return Response(value, status_code=status_code, media_type=MediaType.JSON, headers=headers)
