"""The messages the code marks for the catalog, found by reading the source (no import, no Babel):
``tr("…")``, ``trn("…", "…", n)``, ``trc("context", "…")`` and ``N_("…")`` with literal text.

``python -m hcc.i18n missing [LANG] [PATH …]`` prints, as PO entries ready to fill in, every marked
message of the given files or folders (default: the whole app) that ``LANG`` (default ``ja``) lacks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Every file whose strings a user can see.
APP_SOURCES = ("app.py", "pages", "ui", "hcc")
#: The catalog's functions; for each, how many leading arguments are message text.
KEYWORDS = {"tr": 1, "N_": 1, "trn": 2, "trc": 2}


def source_files(paths: Iterable[str | Path] = APP_SOURCES) -> list[Path]:
    """The ``.py`` files of ``paths`` (files or folders, relative to the repository root)."""
    out: list[Path] = []
    for p in paths:
        path = Path(p) if Path(p).is_absolute() else ROOT / p
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


def catalog_calls(path: Path) -> Iterator[ast.Call]:
    """Every call of a catalog function (by its plain name) in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS:
            yield node


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def marked_messages(paths: Iterable[str | Path] = APP_SOURCES) -> dict[tuple[str | None, str], str]:
    """Every literal message of ``paths``: (context or None, English text) → first place (file:line).
    For ``trn`` the singular is the key (Japanese has one form)."""
    found: dict[tuple[str | None, str], str] = {}
    for path in source_files(paths):
        for call in catalog_calls(path):
            args = [_literal(a) for a in call.args[:2]]
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            if call.func.id == "trc":
                key = (args[0], args[1]) if len(args) == 2 and all(args) else None
            else:
                key = (None, args[0]) if args and args[0] else None
            if key is not None:
                found.setdefault(key, where)
    return found


def _po_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def missing_entries(lang: str = "ja", paths: Iterable[str | Path] = APP_SOURCES) -> str:
    """PO entries (``msgstr ""``) for every marked message of ``paths`` that ``lang`` lacks."""
    from hcc.i18n import catalog

    cat = catalog(lang)
    blocks = []
    for (ctx, msgid), where in marked_messages(paths).items():
        if cat.get((ctx, msgid) if ctx else msgid):
            continue
        lines = [f"#: {where}"]
        if ctx:
            lines.append(f"msgctxt {_po_quote(ctx)}")
        lines += [f"msgid {_po_quote(msgid)}", 'msgstr ""']
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
