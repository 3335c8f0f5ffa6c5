"""Imports run one way between the parts of the app (read from the source, nothing imported).

- cases never imports intake: intake owns the form and its parsing and calls the cases service;
  what both use (validators, uploads, roles) lives in shared modules.
- templating knows no domain: domains install their template globals.
- web never reaches into the Open311 controllers.
- the grid's tables (where ``Staff`` lives) never import accounts, which builds on them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure

PACKAGE = Path(__file__).resolve().parent.parent / "mediation"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function (``from a import b``
    counts as both ``a`` and ``a.b``: b may be a module)."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = (package or module_name(path)).split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def files_of(prefix: str) -> list[Path]:
    target = PACKAGE.parent / Path(*prefix.split("."))
    if target.with_suffix(".py").is_file():
        return [target.with_suffix(".py")]
    return sorted(target.rglob("*.py"))


def offending(importer: str, forbidden: str) -> list[str]:
    return sorted(
        f"{module_name(path)} imports {name}"
        for path in files_of(importer)
        for name in imports_of(path)
        if name == forbidden or name.startswith(forbidden + ".")
    )


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("mediation.cases", "mediation.intake"),
        ("mediation.templating", "mediation.cases"),
        ("mediation.web", "mediation.suggestions.open311_controllers"),
        # Staff is a grid table that accounts reads: the tables never reach up into accounts.
        ("mediation.grid.tables", "mediation.accounts"),
    ],
)
def test_imports_run_one_way(importer, forbidden):
    assert files_of(importer), f"{importer} not found"
    assert offending(importer, forbidden) == []


def test_the_check_sees_imports_in_the_allowed_direction():
    """Else an empty result above could mean the parser found nothing at all."""
    assert "mediation.intake.controllers imports mediation.cases.services" in offending(
        "mediation.intake", "mediation.cases"
    )
    # An import inside a function counts too (cases.events imports the portal inside a function).
    assert any(
        "imports mediation.portal" in line
        for line in offending("mediation.cases", "mediation.portal")
    )
