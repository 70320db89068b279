"""The benchmark's own correctness (``benchmarks/``, issue 17): its registry generator writes a file
the app reads as the data contract, R reading and deriving from the same raw file
(``benchmarks/r_raw.R``) gives the CLI's numbers, and the cross-check catches a difference."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.registry import write_registry_csv, write_registry_parquet
from benchmarks.run import MAX_REL_DIFF, R_RAW, max_rel_diff, rows_of_json

ROOT = Path(__file__).resolve().parent.parent
N = 3000


@pytest.fixture(scope="module")
def registry_csv(tmp_path_factory) -> Path:
    return write_registry_csv(N, tmp_path_factory.mktemp("bench") / "registry.csv")


@pytest.fixture(scope="module")
def cli_rows(registry_csv, tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("cli") / "km.json"
    proc = subprocess.run([sys.executable, "-m", "hcc", "analyze", "--data", str(registry_csv), "--preset", "main",
                           "--stats", "km", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return rows_of_json(out)


def test_generated_registry_loads_without_findings(registry_csv) -> None:
    """The raw CSV is in the data contract: no validation issue, no identifier finding (ages top-coded)."""
    from hcc.ingest.registry import load_path

    registry = load_path(registry_csv)
    assert registry.n_patients == N and registry.issues == () and registry.frame["age"].max() <= 89


def test_blocks_get_distinct_patient_codes(tmp_path, monkeypatch) -> None:
    """Registries larger than one block: codes stay unique (the validator would exclude duplicates)."""
    import benchmarks.registry as reg

    monkeypatch.setattr(reg, "BLOCK", 400)
    path = write_registry_parquet(1000, tmp_path / "r.parquet")
    ids = pd.read_parquet(path, columns=["patient_id"])["patient_id"]
    assert len(ids) == 1000 and ids.is_unique
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)  # as hcc.engine.write_parquet: dates as DATE, flags as BOOLEAN
    assert schema.field("start_1l").type == pa.date32() and schema.field("concomitant_lrt").type == pa.bool_()


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_r_from_the_raw_file_gives_the_cli_numbers(registry_csv, cli_rows, tmp_path) -> None:
    """R: fread + as.IDate, main cohort, the seven endpoints derived in R as hcc derives them,
    survfit(conf.type = "log-log"), quantile(fit, 0.5), survdiff: every n and events equal, medians,
    CI limits and chi-squares to 1e-9 relative (the benchmark's own check)."""
    out = tmp_path / "r.csv"
    proc = subprocess.run(["Rscript", str(R_RAW), str(registry_csv), str(out)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    reference = pd.read_csv(out, dtype={"group": str})
    assert set(reference["endpoint"]) == {"OS", "PFS", "PPS", "DDC", "DOR", "PFS_2L", "OS_2L"}
    assert max_rel_diff(reference, cli_rows) <= MAX_REL_DIFF


def test_the_cross_check_fails_on_a_different_number(cli_rows) -> None:
    reference = pd.DataFrame([r for r in cli_rows if r["endpoint"] == "OS"])
    assert max_rel_diff(reference, cli_rows) == 0.0
    shifted = reference.assign(chisq=reference["chisq"] * (1 + 1e-6))
    assert max_rel_diff(shifted, cli_rows) == pytest.approx(1e-6, rel=1e-3)
    with pytest.raises(RuntimeError, match="n/events"):
        max_rel_diff(reference.assign(events=reference["events"] + 1), cli_rows)


def test_duckdb_child_gives_the_cli_numbers(tmp_path, cli_rows) -> None:
    """The benchmark's DuckDB process on the same registry as canonical Parquet (same generator, seed)."""
    parquet = write_registry_parquet(N, tmp_path / "registry.parquet")
    out = tmp_path / "duck.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.engine_child", str(parquet), str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    duck = pd.DataFrame(json.loads(out.read_text()))
    assert max_rel_diff(duck, cli_rows) <= 1e-12
