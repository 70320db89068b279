"""Cold start of the CLI (issue 17): a command imports only what it needs.

Structural, not timed: each test runs ``python -X importtime -m hcc …`` in a fresh interpreter and
reads the modules it imported from the importtime report on stderr. ``--help`` must not load the data
and statistics stack at all; ``--stats km`` must not load the libraries only other analyses use
(scipy.stats, lifelines, statsmodels) nor the figure and report renderers (plotly, kaleido, pptx).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_stats_km_imports_only_the_km_path() -> None:
    """``--stats km`` reads, validates and runs KM + log-rank: numpy, pandas, pyarrow and scipy.special,
    nothing of the Cox models, response analyses or renderers."""
    names, proc = imported_modules("analyze", "--data", str(DEMO), "--preset", "main", "--stats", "km",
                                   "--out", "/dev/null")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _loaded(names, HEAVY) == []
    assert _loaded(names, ("pandas", "scipy.special")) == ["pandas", "scipy.special"]
