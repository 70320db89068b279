"""Speed of the analysis pipeline on synthetic registries: ``python -m benchmarks.run`` (``make bench``).

For each size n (default 1e3, 1e4, 1e5, 1e6) it generates a registry with the demo generator
(:func:`hcc.reference.synth.generate`, seed 1) and times, separately and as the median of ``--repeats`` runs:

- ``load_validate``: read + validate the CSV held in memory (:func:`hcc.ingest.registry.load_bytes`);
- ``cohort``: apply a cohort spec (the full cohort, so that every later stage analyses all n
  patients; :func:`hcc.cohort.rules.apply_to_registry`);
- ``derive``: derive the seven Survival-page endpoints (:func:`hcc.cohort.endpoints.derive`);
- ``km_logrank``: KM + median CI + log-rank for the seven (``--stats km``: ``summarize(comparisons=False)``);
- ``km_full``: the full summary of the seven (adds pairwise log-rank tests and the Cox HRs);
- ``td_cox``: the time-dependent Cox model of OS on disease control, regimen as stratum;
- ``duckdb_km``: the same cohort, derivation and KM + log-rank of the seven endpoints with the rows
  in embedded DuckDB over Parquet (:mod:`hcc.engine`: one SQL query per endpoint, only the risk-set
  counts reach Python); checked equal to ``km_logrank``'s results;
- ``page_rerun``: the Survival page rerun in AppTest after a cohort-rule change (server side; the
  session starts on the main cohort and each run sets a new lower age limit, so nothing is served
  from the session memo);
- ``r_read`` / ``r_stats``: R ``data.table::fread`` and ``survfit`` + ``quantile`` + ``survdiff``
  on the same derived-endpoint CSV (``benchmarks/r_km.R``; when ``Rscript`` is installed), beside
  ``py_read`` (pandas ``read_csv``) + ``km_logrank`` of the same file; the medians and chi-squares
  of the two sides are cross-checked (max relative difference printed).

Prints a table and writes ``benchmarks/results/latest.json``. Not a test: numbers depend on the
machine (this project's is 2 cores). Synthetic data only; temporary files are deleted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from hcc.cohort.rules import FULL, PRESETS, apply_to_registry
from hcc.cohort.endpoints import EndpointData, derive
from hcc.stats.tdcox import time_dependent_cox
from hcc.ingest.registry import load_bytes
from hcc.schema import Col, SURVIVAL_ENDPOINTS
from hcc.stats.survival import summarize
from hcc.reference.synth import generate, write_csv

OUT = Path(__file__).parent / "results"
R_SCRIPT = Path(__file__).parent / "r_km.R"
NAME = "bench.csv"
STAGES = ("load_validate", "cohort", "derive", "km_logrank", "km_full", "td_cox", "page_rerun",
          "duckdb_km", "py_read", "r_read", "r_stats")


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def registry_bytes(n: int, seed: int = 1) -> bytes:
    """The demo generator's registry of ``n`` patients as CSV bytes. Ages are top-coded at 89 so the
    file passes the upload guard against identifying ages over 89 without a confirmation step."""
    frame = generate(n_patients=n, seed=seed)
    frame[Col.AGE] = frame[Col.AGE].clip(upper=89)
    with tempfile.TemporaryDirectory() as tmp:  # synthetic data only
        write_csv(frame, Path(tmp) / NAME)
        return (Path(tmp) / NAME).read_bytes()


def _km_all(derived: list[EndpointData], groups: tuple[str, ...], comparisons: bool) -> list:
    return [summarize(d, groups, comparisons=comparisons) for d in derived]


def page_rerun(registry, repeats: int) -> float:
    """Median server-side rerun of the Survival page after a cohort-rule change, in AppTest."""
    from streamlit.testing.v1 import AppTest

    from ui.keys import StateKeys

    app = Path(__file__).resolve().parent.parent / "app.py"
    at = AppTest.from_file(str(app), default_timeout=600)
    at.session_state[StateKeys.REGISTRY] = registry
    at.run()
    at.switch_page("pages/survival.py")
    at.run()
    times = []
    for i in range(repeats + 1):  # the first change also warms the page's imports: not counted
        at.number_input(key=StateKeys.COHORT + "age_min").set_value(20.0 + i)
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        if at.exception:
            raise RuntimeError(f"the Survival page failed: {at.exception[0].message}")
    return statistics.median(times[1:])


def duckdb_km(registry, groups: tuple[str, ...], expected: list, repeats: int) -> float:
    """Median time of cohort + seven endpoints' KM + log-rank in DuckDB over Parquet (hcc.engine)."""
    from hcc.engine import DuckDBEngine, cohort, summarize_endpoint, write_parquet

    with tempfile.TemporaryDirectory() as tmp:  # synthetic data only
        write_parquet(registry.frame, Path(tmp) / "registry.parquet")
        engine = DuckDBEngine(Path(tmp) / "registry.parquet")

        def once() -> list:
            c = cohort(engine, PRESETS[FULL])
            return [summarize_endpoint(engine, c, e, comparisons=False) for e in SURVIVAL_ENDPOINTS]

        got = once()
        if [repr(s.groups) + repr(s.logrank) for s in got] != [repr(s.groups) + repr(s.logrank) for s in expected]:
            raise RuntimeError("DuckDB and in-memory results differ")
        seconds = _median_time(once, repeats)
        engine.close()
    return seconds


def endpoints_csv(derived: list[EndpointData], path: Path) -> None:
    """One row per patient and endpoint: endpoint, group, time (days), status — R's input."""
    frames = [pd.DataFrame({"endpoint": d.endpoint.value, "group": d.group, "time": d.days.astype(int),
                            "status": d.event.astype(int)}) for d in derived]
    pd.concat(frames).to_csv(path, index=False)


def r_side_by_side(derived: list[EndpointData], groups: tuple[str, ...], repeats: int) -> dict:
    """Time R (fread + survfit/quantile/survdiff) and pandas read + our KM on the same CSV."""
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        csv, r_out = Path(tmp) / "endpoints.csv", Path(tmp) / "r_out.csv"
        endpoints_csv(derived, csv)

        def py_read() -> pd.DataFrame:
            return pd.read_csv(csv, dtype={"endpoint": str, "group": str})

        out["py_read_s"] = _median_time(py_read, repeats)
        table = py_read()
        ours = {}
        for d in derived:
            part = table[table["endpoint"] == d.endpoint.value]
            ours[d.endpoint.value] = summarize(
                EndpointData(d.endpoint, np.arange(len(part)), part["group"].to_numpy(object),
                             part["time"].to_numpy(float), part["status"].to_numpy(bool), {}, d.excluded),
                groups, comparisons=False)
        if shutil.which("Rscript") is None:
            return out
        proc = subprocess.run(["Rscript", str(R_SCRIPT), str(csv), str(repeats), str(r_out)],
                              capture_output=True, text=True, check=True)
        for line in proc.stdout.splitlines():
            key, _, value = line.strip().partition(" ")
            out[key] = float(value) if key.endswith("_s") else value.strip()
        out["r_vs_py_max_rel_diff"] = _cross_check(pd.read_csv(r_out, dtype={"group": str}), ours)
    return out


def _cross_check(r: pd.DataFrame, ours: dict) -> float:
    """Largest relative difference between R's and our medians (days), CI limits and chi-squares."""
    worst = 0.0
    for row in r.to_dict("records"):
        s = ours[row["endpoint"]]
        g = next(x for x in s.groups if x.group == row["group"])
        pairs = [(g.median, row["median"]), (g.median_low, row["lower"]), (g.median_high, row["upper"])]
        pairs = [(a * 30.4375, b) for a, b in pairs] + [(s.logrank.statistic, row["chisq"])]
        for a, b in pairs:
            if np.isnan(a) and np.isnan(b):
                continue
            worst = max(worst, abs(a - b) / max(abs(b), 1e-300))
    return worst


def run(sizes: list[int], repeats: int, page: bool, r: bool, td_cox_max: int = 100_000) -> list[dict]:
    rows = []
    for n in sizes:
        reps = repeats if n < 1_000_000 else max(1, repeats // 2)
        data = registry_bytes(n)
        registry = load_bytes(data, NAME)
        cohort = apply_to_registry(registry, PRESETS[FULL])  # every patient analysed: n is the analysed n
        derived = [derive(cohort.frame, e) for e in SURVIVAL_ENDPOINTS]
        row: dict = {"n": n, "cohort_n": cohort.n, "repeats": reps}
        row["load_validate_s"] = _median_time(lambda: load_bytes(data, NAME), reps)
        row["cohort_s"] = _median_time(lambda: apply_to_registry(registry, PRESETS[FULL]), reps)
        row["derive_s"] = _median_time(lambda: [derive(cohort.frame, e) for e in SURVIVAL_ENDPOINTS], reps)
        row["km_logrank_s"] = _median_time(lambda: _km_all(derived, cohort.regimens, False), reps)
        row["km_full_s"] = _median_time(lambda: _km_all(derived, cohort.regimens, True), reps)
        if n <= td_cox_max:
            row["td_cox_s"] = _median_time(
                lambda: time_dependent_cox(cohort.frame, Col.DATE_DC_1L, regimen_as="stratum"), reps)
        if page:
            row["page_rerun_s"] = page_rerun(registry, reps)
        row["duckdb_km_s"] = duckdb_km(registry, cohort.regimens, _km_all(derived, cohort.regimens, False), reps)
        if r:
            row.update(r_side_by_side(derived, cohort.regimens, reps))
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


def format_row(row: dict) -> str:
    cells = [f"{row['n']:>9,}"] + [f"{row[k + '_s']:8.3f}" if k + "_s" in row else f"{'—':>8}" for k in STAGES]
    return "  ".join(cells)


def header() -> str:
    return "  ".join([f"{'n':>9}"] + [f"{k[:8]:>8}" for k in STAGES])


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-page", action="store_true", help="skip the AppTest page rerun")
    parser.add_argument("--no-r", action="store_true", help="skip the R side-by-side")
    parser.add_argument("--td-cox-max", type=int, default=100_000,
                        help="largest n for the time-dependent Cox stage (lifelines; minutes at 1e6)")
    parser.add_argument("--out", default=str(OUT / "latest.json"))
    args = parser.parse_args()
    print(f"seconds, median of repeats; {machine()['cpus']} CPUs")
    print(header(), flush=True)
    rows = run(args.sizes, args.repeats, page=not args.no_page, r=not args.no_r, td_cox_max=args.td_cox_max)
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
