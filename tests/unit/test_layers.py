"""Dependencies point one way: protocol <- core <- dialects <- session <- net.

Read from the source with ``ast``: the core never imports a concrete dialect,
the session or the network layer, and no module hides an import cycle in a
function-local import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ircish"

#: Layer -> the ircish modules it must never import (at module level or below).
FORBIDDEN = {
    "protocol": (
        "ircish.core",
        "ircish.dialects",
        "ircish.session",
        "ircish.net",
        "ircish.client",
        "ircish.storage",
    ),
    "core": (
        "ircish.dialects",
        "ircish.session",
        "ircish.net",
        "ircish.client",
        "ircish.storage",
    ),
    "storage": ("ircish.dialects", "ircish.session", "ircish.net", "ircish.client"),
    "dialects": ("ircish.session", "ircish.net", "ircish.client"),
    "client": ("ircish.core", "ircish.dialects", "ircish.session", "ircish.net"),
}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, is_function_local) for every ircish import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, bool]] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom) and child.module:
                out.append((child.module, local))
            elif isinstance(child, ast.Import):
                out.extend((alias.name, local) for alias in child.names)
            visit(child, inner)

    visit(tree, False)
    return [(m, local) for m, local in out if m.startswith("ircish")]


def _files(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_import_upwards(layer: str) -> None:
    bad = [
        f"{path.relative_to(PACKAGE.parent)} imports {module}"
        for path in _files(layer)
        for module, _ in _imports(path)
        if module.startswith(FORBIDDEN[layer])
    ]
    assert not bad


def test_no_function_local_imports_in_the_server() -> None:
    """Cycles are solved by modules of their own, not by importing inside functions."""
    allowed = {("cli.py", "ircish.net.server")}  # keeps `--help` fast
    bad = [
        f"{path.relative_to(PACKAGE)} imports {module} inside a function"
        for path in sorted(PACKAGE.rglob("*.py"))
        if "client" not in path.relative_to(PACKAGE).parts
        for module, local in _imports(path)
        if local and (str(path.relative_to(PACKAGE)), module) not in allowed
    ]
    assert not bad
