"""The tree shows the architecture: a few modules at the top of blog/, and every import made
inside a function says why (an import that only dodges a cycle is a cycle to untangle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from blog.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "blog"
MODULES = sorted(PACKAGE.rglob("*.py"))


def test_at_most_eight_modules_sit_directly_in_the_package() -> None:
    """The factory, config, extensions, database, clock, CLI and backups: the rest has a folder."""
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top


def local_imports(path: Path) -> list[int]:
    """Line numbers of the imports made inside a function (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.extend(
                stmt.lineno
                for stmt in ast.walk(node)
                if isinstance(stmt, ast.Import | ast.ImportFrom)
            )
    return sorted(set(found))


def says_why(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line, or on the line above its block of imports."""
    index = lineno - 1
    if "#" in lines[index]:
        return True
    while index > 0 and lines[index - 1].strip().startswith(("from ", "import ")):
        index -= 1
    return index > 0 and lines[index - 1].strip().startswith("#")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_an_import_inside_a_function_says_why(path: Path) -> None:
    """Function-local imports stay only for a start-up cost, and say so."""
    lines = path.read_text(encoding="utf-8").splitlines()
    silent = [n for n in local_imports(path) if not says_why(lines, n)]
    assert silent == [], f"{path.name}: imports inside functions without a reason at {silent}"


def test_the_check_finds_a_silent_import(tmp_path: Path) -> None:
    """The check itself can fail."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    x = 1\n    from os import path\n    return path\n")
    lines = module.read_text().splitlines()
    assert [n for n in local_imports(module) if not says_why(lines, n)] == [3]
