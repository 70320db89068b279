"""Structural rules of the codebase (STYLE.md): hcc/ is UI-free, pages are thin, docs match the schema."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from hcc.schema import COLUMNS, ENDPOINTS

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_hcc_never_imports_streamlit() -> None:
    offenders = [p.name for p in (ROOT / "hcc").rglob("*.py") if "streamlit" in _imports(p)]
    assert offenders == []


def _app_code() -> list[Path]:
    """Every module of the app's UI: the entry point, the page scripts and the shared UI package."""
    return [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").rglob("*.py"))]


def test_pages_holds_only_the_registered_pages() -> None:
    """Streamlit lists every pages/*.py as a page on a fresh server: shared UI code lives in ui/."""
    from ui.common import PAGES

    assert sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py")) == sorted(
        spec.path for spec in PAGES)


def test_hcc_never_imports_the_ui() -> None:
    offenders = [p.name for p in (ROOT / "hcc").rglob("*.py") if {"ui", "pages"} & _imports(p)]
    assert offenders == []


def test_pages_are_thin_and_do_no_statistics() -> None:
    """Page scripts are short; neither they nor the shared UI code compute statistics (the line count
    is a hint for page scripts only: shared UI code is never split just to be shorter)."""
    for page in (ROOT / "pages").glob("*.py"):
        assert len(page.read_text(encoding="utf-8").splitlines()) < 150, page.name
    for module in [*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")]:
        assert not {"lifelines", "scipy", "numpy"} & _imports(module), module.name


def test_docs_document_every_column_and_endpoint() -> None:
    fmt = (ROOT / "docs" / "data-format.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", fmt, flags=re.M))
    assert documented == {c.name for c in COLUMNS}
    ends = (ROOT / "docs" / "endpoints.md").read_text(encoding="utf-8")
    assert all(f"| `{e.value}` " in ends for e in ENDPOINTS)


def test_no_column_name_literals_outside_schema() -> None:
    """Canonical column names are spelled only in hcc/schema.py (and docs/tests)."""
    names = {c.name for c in COLUMNS}
    for path in [*(ROOT / "hcc").rglob("*.py"), *_app_code()]:
        if path.name == "schema.py":
            continue
        literals = {n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        assert not literals & names, (path.name, literals & names)


#: The data flow of hcc/ (STYLE.md): a module may import from its own box and from boxes to its left,
#: never from one to its right. ``schema`` and ``errors`` are the contract, ``i18n`` the message catalog, ``formatting`` how numbers are written; ``reference`` holds
#: published numbers and the demo generator; ``analysis`` and ``engine`` run the whole analysis.
FLOW = ("schema", "errors", "i18n", "formatting", "reference", "ingest", "cohort", "stats", "analysis", "engine", "outputs", "cli")
_RANK = {"schema": 0, "errors": 0, "i18n": 0, "formatting": 0, "reference": 1, "ingest": 2, "cohort": 3, "stats": 4, "analysis": 5,
         "engine": 5, "outputs": 6, "cli": 7}


def _hcc_imports(path: Path) -> set[str]:
    """The top-level boxes of hcc (``ingest``, ``schema``, …) that ``path`` imports from."""
    boxes: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
        for name in names:
            parts = name.split(".")
            if parts[0] == "hcc" and len(parts) > 1:
                boxes.add(parts[1])
            elif parts[0] == "hcc" and isinstance(node, ast.ImportFrom):
                boxes |= {a.name for a in node.names if a.name in _RANK}
    return boxes


def test_hcc_subpackages_import_only_upstream() -> None:
    """No step reaches back up the flow (e.g. validation importing endpoint derivation)."""
    assert set(FLOW) == set(_RANK)
    wrong = []
    for path in (ROOT / "hcc").rglob("*.py"):
        rel = path.relative_to(ROOT / "hcc")
        box = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        if box not in _RANK:  # __init__ and __main__ of the package
            continue
        wrong += [f"{rel} imports hcc.{other}" for other in _hcc_imports(path)
                  if other in _RANK and _RANK[other] > _RANK[box]]
    assert wrong == []


def test_hcc_has_only_the_documented_boxes() -> None:
    """Every module of hcc/ sits in a box of FLOW (the README's layout lists the same)."""
    boxes = {p.relative_to(ROOT / "hcc").parts[0].removesuffix(".py") for p in (ROOT / "hcc").iterdir()
             if p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists())}
    assert boxes - {"__init__", "__main__"} == set(FLOW)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert all(f"{box}/" in readme for box in FLOW if (ROOT / "hcc" / box).is_dir())
