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
