"""The import direction of docs/architecture.md, checked by walking every module's imports with
``ast`` (function-level and ``TYPE_CHECKING`` imports included): a unit imports only the units
below it in :data:`ALLOWED`. A new top-level module or subpackage fails here until it is given
its place, in this table and in the document."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mapper"

#: shared, side-effect-free knowledge at the bottom: anything may import it
FOUNDATION = frozenset({"errors", "diagnostics", "links", "plan", "scimschema", "dn", "scimfilter"})
LANGUAGE = FOUNDATION | {"grammar", "language"}
#: what each unit may import besides itself (``grammar`` is mapper.language.grammar, the loader
#: of the grammar files, which the SCIM filter parser uses too)
ALLOWED: dict[str, frozenset[str]] = {
    **{unit: FOUNDATION for unit in FOUNDATION},
    "grammar": FOUNDATION,
    "language": FOUNDATION | {"grammar"},
    "checks": LANGUAGE,
    "compiler": LANGUAGE,
    "pipeline": LANGUAGE | {"checks", "compiler"},
    "lint": LANGUAGE | {"checks", "compiler", "pipeline"},
    "lsp": LANGUAGE | {"checks", "compiler", "pipeline", "lint"},
    "runtime": FOUNDATION,
    "scim": FOUNDATION | {"grammar", "runtime"},
    "simulate": FOUNDATION | {"pipeline", "runtime", "scim"},
    # mapper init: reads a live database (the runtime's URL helpers) and writes a mapping that lints
    "scaffold": LANGUAGE | {"lint", "runtime"},
    "cli": LANGUAGE
    | {"checks", "compiler", "pipeline", "lint", "lsp", "runtime", "scim", "simulate", "scaffold"},
    "__main__": frozenset({"cli"}),
    "__init__": frozenset(),
}


#: Inside a unit, the modules split from one file along its seams keep one direction too: each
#: imports only those before it in its row (docs/architecture.md, "Inside the units").
LAYERED: tuple[tuple[str, ...], ...] = (
    tuple(
        f"mapper.runtime.sqlfilter.{m}" for m in ("terms", "wrapped", "leaves", "paths", "condition", "query")
    ),
    tuple(f"mapper.scaffold.{m}" for m in ("draft", "columns", "common", "user", "guess", "render")),
    ("mapper.language.layout", "mapper.language.fmt"),
    ("mapper.scim.matching", "mapper.scim.filter"),
    ("mapper.scim.filter", "mapper.scim.filtershape", "mapper.scim.routes.search"),
    ("mapper.scim.exposition", "mapper.scim.requestcount", "mapper.scim.metrics"),
    ("mapper.scim.patchvalues", "mapper.scim.patchtargets", "mapper.scim.patch"),
    tuple(f"mapper.cli.{m}" for m in ("common", "mappings", "tools", "serving")),
)


def unit(module: str) -> str:
    """The unit a module belongs to: its subpackage (``mapper.runtime.store`` -> ``runtime``), or
    the top-level module's own name."""
    parts = module.split(".")
    if module == "mapper.language.grammar":
        return "grammar"
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every ``mapper`` module ``path`` imports, relative imports resolved and
    ``from mapper import x`` read as ``mapper.x``."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    yield from imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: str) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "mapper" or alias.name.startswith("mapper."):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "mapper":
                for alias in node.names:
                    yield node.lineno, f"mapper.{alias.name}"
            elif base.startswith("mapper."):
                yield node.lineno, base


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_place() -> None:
    placeless = sorted({module_name(p) for p in MODULES if unit(module_name(p)) not in ALLOWED})
    assert placeless == [], "give these a unit in ALLOWED and in docs/architecture.md"


def violations(importer: str, found: Iterator[tuple[int, str]]) -> list[str]:
    allowed = ALLOWED.get(importer, frozenset())
    return [
        f"line {line}: {importer} imports {target} ({unit(target)})"
        for line, target in sorted(found)
        if unit(target) != importer and unit(target) not in allowed
    ]


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
def test_imports_point_down(path: Path) -> None:
    assert violations(unit(module_name(path)), imports(path)) == [], path.relative_to(ROOT)


def test_an_upward_import_is_reported() -> None:
    source = """
from typing import TYPE_CHECKING
from mapper.plan import Plan
from . import cache
if TYPE_CHECKING:
    from mapper.language.model import MappingFile
def later():
    from mapper.scim import app
"""
    found = violations("runtime", imports_in(source, "mapper.runtime"))
    assert found == [
        "line 6: runtime imports mapper.language.model (language)",
        "line 8: runtime imports mapper.scim (scim)",
    ]
    assert violations("compiler", imports_in("from ..checks import dn", "mapper.compiler")) == [
        "line 1: compiler imports mapper.checks (checks)"
    ]


def test_the_walk_sees_imports_of_every_kind() -> None:
    """The walker itself: function-level, TYPE_CHECKING, relative and ``from mapper import``."""
    module = PACKAGE / "runtime" / "store_base.py"
    found = {target for _, target in imports(module)}
    assert "mapper.plan" in found
    cli = {target for _, target in imports(PACKAGE / "cli" / "serving.py")}
    assert any(unit(t) == "scim" for t in cli)  # imported inside serve(), not at the top
    codes = {target for _, target in imports(PACKAGE / "lint" / "codes.py")}
    assert "mapper.links" in codes  # from mapper import links


def backwards(layers: tuple[str, ...], module: str, found: Iterator[tuple[int, str]]) -> list[str]:
    """The imports of ``module`` that point to a module after it in ``layers``."""
    later = set(layers[layers.index(module) + 1 :])
    return [f"line {line}: {module} imports {target}" for line, target in sorted(found) if target in later]


@pytest.mark.parametrize("layers", LAYERED, ids=[layers[-1] for layers in LAYERED])
def test_split_modules_import_in_one_direction(layers: tuple[str, ...]) -> None:
    for module in layers:
        path = ROOT / (module.replace(".", "/") + ".py")
        assert path.exists(), f"{module} is in LAYERED but not in the package"
        assert backwards(layers, module, imports(path)) == [], path.relative_to(ROOT)


def test_a_backward_import_inside_a_unit_is_reported() -> None:
    layers = LAYERED[0]
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .query import FilterSql\n"
    found = imports_in(source, "mapper.runtime.sqlfilter")
    assert backwards(layers, "mapper.runtime.sqlfilter.terms", found) == [
        "line 3: mapper.runtime.sqlfilter.terms imports mapper.runtime.sqlfilter.query"
    ]


def suite_imports(path: Path) -> Iterator[str]:
    """The modules a test file imports, as written (``test_app_support`` imported by bare name,
    through the directory pytest puts on ``sys.path``, counts as written)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def borrowed(module: str) -> bool:
    """Whether ``module`` is another test module or a conftest: helpers shared between suites
    live in ``tests/support`` (issue #12)."""
    return any(part.startswith("test_") or part == "conftest" for part in module.split("."))


@pytest.mark.parametrize(
    "path", sorted((ROOT / "tests").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_a_test_module_imports_no_other_test_module(path: Path) -> None:
    assert not [module for module in suite_imports(path) if borrowed(module)]


def test_a_borrowed_helper_is_reported() -> None:
    assert borrowed("test_app_support") and borrowed("tests.scim.test_app") and borrowed("tests.conftest")
    assert not borrowed("tests.support.scim") and not borrowed("mapper.scim.app")
