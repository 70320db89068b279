"""Cold start of the CLI (issue 17): a command imports only what it needs.

Structural, not timed: each test runs ``python -X importtime -m hcc …`` in a fresh interpreter and
reads the modules it imported from the importtime report on stderr. ``--help`` must not load the data
and statistics stack at all; ``--stats km`` must not load the libraries only other analyses use
(scipy.stats, lifelines, statsmodels) nor the figure and report renderers (plotly, kaleido, pptx), and
no scipy at all; on a clean CSV in the data contract (the fast path) not even pandas.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.registry import write_registry_csv
from hcc.schema import Col

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo_registry.csv"

#: What reading and computing need: never for --help.
DATA_STACK = ("numpy", "pandas", "scipy", "pyarrow", "duckdb")
#: What only the full analysis, the Cox models and the reports need: never for --stats km.
HEAVY = ("scipy.stats", "lifelines", "statsmodels", "plotly", "kaleido", "pptx", "matplotlib", "duckdb")


def imported_modules(*args: str) -> tuple[set[str], subprocess.CompletedProcess]:
    """Every module a fresh ``python -X importtime -m hcc ARGS`` imported (top-level names and dotted)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "hcc", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    names = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return names - {"package"}, proc


def _loaded(names: set[str], wanted: tuple[str, ...]) -> list[str]:
    return sorted(w for w in wanted if w in names or any(n.startswith(w + ".") for n in names))


def test_the_importtime_report_names_modules() -> None:
    """The reader below sees imports at all (else every 'not imported' assertion would pass vacuously):
    the full analysis of the demo loads scipy.stats (exact binomial CIs of the response rates)."""
    names, proc = imported_modules("analyze", "--data", str(DEMO), "--preset", "main", "--out", "/dev/null")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "hcc.cli.main" in names
    assert _loaded(names, ("scipy.stats", "pandas")) == ["pandas", "scipy.stats"]


def test_help_imports_no_data_or_statistics_library() -> None:
    names, proc = imported_modules("analyze", "--help")
    assert proc.returncode == 0 and "--stats" in proc.stdout
    assert "hcc.cli.main" in names
    assert _loaded(names, DATA_STACK) == []


def test_a_bad_option_is_reported_without_loading_the_data_stack() -> None:
    names, proc = imported_modules("analyze", "--data", str(DEMO), "--ci", "logit")
    assert proc.returncode == 2 and proc.stderr.splitlines()[-1].startswith("error: ")
    assert _loaded(names, DATA_STACK) == []


@pytest.fixture(scope="module")
def clean_csv(tmp_path_factory) -> Path:
    """A small synthetic registry in the data contract: clean, so ``--stats km`` takes the fast path."""
    return write_registry_csv(200, tmp_path_factory.mktemp("cold") / "registry.csv", seed=3)


@pytest.fixture(scope="module")
def csv_with_a_finding(clean_csv) -> Path:
    """The same registry with one column named ``MVI``: the full path reads it (the proposed mapping
    renames it, and says so); no fast path takes a header outside the data contract, so the decline comes
    before any reader is imported. Independent of how the demo itself is read."""
    lines = clean_csv.read_text(encoding="utf-8").split("\n")
    header = [name.upper() if name == Col.MVI else name for name in lines[0].split(",")]
    path = clean_csv.with_name("registry_renamed.csv")
    path.write_text("\n".join([",".join(header), *lines[1:]]), encoding="utf-8")
    return path


def test_stats_km_imports_only_the_km_path(csv_with_a_finding) -> None:
    """``--stats km`` on a file the full path reads, validates and runs KM + log-rank on: numpy, pandas and
    pyarrow, nothing of the Cox models, response analyses or renderers, and no scipy
    (:mod:`hcc.stats.distributions` gives KM and log-rank their distribution functions)."""
    names, proc = imported_modules("analyze", "--data", str(csv_with_a_finding), "--preset", "main", "--stats",
                                   "km", "--out", "/dev/null", "--verbose")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "path: full" in proc.stderr
    assert _loaded(names, HEAVY) == []
    assert _loaded(names, ("pandas", "scipy")) == ["pandas"]


#: HEAVY without duckdb: the fast path reads the clean file with DuckDB (~0.05-0.15 s to import), which is
#: what makes its reading cheap; everything else of HEAVY stays out.
FAST_PATH_HEAVY = tuple(h for h in HEAVY if h != "duckdb")


def test_stats_km_on_a_clean_file_imports_neither_pandas_nor_scipy(clean_csv) -> None:
    """The fast path (a clean CSV in the data contract, ``hcc.ingest.fastpath`` → ``hcc.engine``): DuckDB
    and numpy only — no pandas (~0.45 s of imports) and no scipy, from the command line to the JSON."""
    names, proc = imported_modules("analyze", "--data", str(clean_csv), "--preset", "main", "--stats", "km",
                                   "--out", "/dev/null", "--verbose")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "path: fast" in proc.stderr
    assert _loaded(names, FAST_PATH_HEAVY) == []
    assert _loaded(names, ("duckdb", "numpy", "pandas", "scipy")) == ["duckdb", "numpy"]


def test_the_demo_takes_the_fast_path_without_pandas() -> None:
    """The cold-start target's own case: ``--stats km`` on the bundled demo reads it on the fast path (its
    full path skips the identifier scan, and so does the fast path's check of it), without pandas or scipy."""
    names, proc = imported_modules("analyze", "--data", str(DEMO), "--preset", "main", "--stats", "km",
                                   "--out", "/dev/null", "--verbose")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "path: fast" in proc.stderr
    assert _loaded(names, ("pandas", "scipy")) == []


#: Modules whose pandas is a per-function import (``if TYPE_CHECKING: import pandas as pd`` at the top), so
#: that the fast path loads them without pandas.
LAZY_PANDAS = ("hcc/ingest/io.py", "hcc/ingest/mapping.py", "hcc/cohort/endpoints.py", "hcc/cohort/rules.py",
               "hcc/analysis.py", "hcc/engine.py")


def _runtime_uses_without_import(source: str, name: str) -> list[str]:
    """Functions of ``source`` that use ``name`` at run time (annotations aside) with no import of it in
    themselves or an enclosing function, and none at module level outside ``if TYPE_CHECKING``."""
    import ast

    tree = ast.parse(source)
    imported_at_top = {(a.asname or a.name) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                       for a in node.names}
    if name in imported_at_top:
        return []
    annotations = set()
    for node in ast.walk(tree):
        parts = [node.returns] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
        if isinstance(node, ast.arg):
            parts.append(node.annotation)
        if isinstance(node, ast.AnnAssign):
            parts.append(node.annotation)
        annotations |= {id(m) for part in parts if part is not None for m in ast.walk(part)}

    found = []

    def own_nodes(fn):  # fn's nodes, not those of the functions defined inside it
        todo, nodes, inner = list(fn.body), [], []
        while todo:
            n = todo.pop()
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner.append(n)
                continue
            nodes.append(n)
            todo.extend(ast.iter_child_nodes(n))
        return nodes, inner

    def visit(fn, inherited: bool) -> None:
        nodes, inner = own_nodes(fn)
        has = inherited or any(isinstance(n, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name) == name
                                                                                   for a in n.names) for n in nodes)
        found.extend(f"{fn.name}:{n.lineno}" for n in nodes if isinstance(n, ast.Name) and n.id == name
                     and isinstance(n.ctx, ast.Load) and id(n) not in annotations and not has)
        for f in inner:
            visit(f, has)

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.col_offset == 0 or \
                isinstance(node, ast.ClassDef):
            for fn in ([node] if not isinstance(node, ast.ClassDef) else
                       [m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]):
                visit(fn, False)
    return sorted(set(found))


def test_lazily_imported_pandas_is_imported_where_it_is_used() -> None:
    """A function of a lazy-pandas module that uses ``pd`` without importing it fails only when it runs
    (a NameError at upload, not at import): each is listed here instead."""
    offenders = {path: _runtime_uses_without_import((ROOT / path).read_text(encoding="utf-8"), "pd")
                 for path in LAZY_PANDAS}
    assert {p: o for p, o in offenders.items() if o} == {}


def test_the_lazy_import_check_sees_a_missing_import() -> None:
    """The check above can fail: a function using ``pd`` with no import of it is found, one importing it is not."""
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas as pd\n\n"
              "def bad(x) -> pd.Series:\n    return pd.Series(x)\n\n"
              "def good(x: pd.Series):\n    import pandas as pd\n    return pd.Series(x)\n\n"
              "class C:\n    def method(self):\n        def inner():\n            return pd.NA\n        return inner\n")
    assert _runtime_uses_without_import(source, "pd") == ["bad:6", "inner:15"]
